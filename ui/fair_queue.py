"""The queue, shared fairly between clients: a flood from one client must not starve a class.

Gradio's queue is one first-in-first-out line per concurrency group, with one size limit for all
(`max_size`). 200 calls sent at once by one client fill it: every other user is refused ("Queue is
full") until it drains, and a call that does get in waits behind the whole backlog. Two changes,
made to the app's own queue object by `share_fairly(demo)`:

- **admission**: one client may have at most `per_client` events waiting; its next join is refused
  (HTTP 503, with a message saying why), so one client never fills the line for the others;
- **order**: when a worker is free, it takes the oldest event of the client served longest ago
  (round robin over clients) instead of the oldest event overall: a user's call waits for the calls
  running now and one turn of each waiting client, not for a flood's backlog.

A client is an address, as the server reports it (`request.client.host`: uvicorn replaces the
peer's address with X-Forwarded-For's only when the peer is a trusted proxy, `FORWARDED_ALLOW_IPS`),
so a forged header does not make a flood look like many clients.

Gradio has no hook for either, so both replace methods of the queue instance (`push`,
`get_events`; gradio/queueing.py, Gradio 6.31, pinned): tests/test_robustness.py checks both
against the running app, and fails if Gradio's queue changes shape under them.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter

import gradio as gr

PER_CLIENT = 64  # waiting events per client: half the line, room for a class of 30 behind one school address
REMEMBERED = 4096  # clients whose last turn is kept; beyond that, only those waiting now are remembered


def client_of(request) -> str:
    client = getattr(request, "client", None)
    return getattr(client, "host", None) or "unknown"


def share_fairly(demo: gr.Blocks, per_client: int = PER_CLIENT) -> None:
    """Give `demo`'s queue (after `demo.queue(...)`) per-client admission and round-robin order."""
    queue = demo._queue
    lines = queue.event_queue_per_concurrency_id  # concurrency id -> EventQueue (its .queue: the waiting events)
    served: dict[str, int] = {}  # client -> the turn it was last served
    turns = itertools.count()
    gradio_push = queue.push

    def waiting() -> Counter:
        return Counter(client_of(event.request) for line in lines.values() for event in line.queue)

    async def push(body, request, username):
        if waiting()[client_of(request)] >= per_client:
            return (False, f"{per_client} of your requests are waiting already: wait for their answers, then ask again",
                    "queue_full")
        return await gradio_push(body=body, request=request, username=username)

    def get_events():
        """Gradio's get_events, except which event goes first: see the module's docstring."""
        if len(served) > REMEMBERED:  # a long-running public app sees many addresses: keep the ones still waiting
            keep = waiting()
            for client in [c for c in served if c not in keep]:
                del served[client]
        concurrency_ids = list(lines)
        random.shuffle(concurrency_ids)  # as Gradio does, between groups
        for concurrency_id in concurrency_ids:
            line = lines[concurrency_id]
            if not line.queue or (line.concurrency_limit is not None and line.current_concurrency >= line.concurrency_limit):
                continue
            first = min(line.queue, key=lambda event: served.get(client_of(event.request), -1))  # min: the oldest on ties
            served[client_of(first.request)] = next(turns)
            events = [first]
            if first.fn.batch:
                events += [e for e in line.queue if e is not first and e.fn == first.fn][: first.fn.max_batch_size - 1]
            for event in events:
                line.queue.remove(event)
            return events, first.fn.batch, concurrency_id
        return None

    queue.push, queue.get_events = push, get_events
