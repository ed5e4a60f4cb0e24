"""The Gradio side of the app: one file per tab in `ui/tabs/`, shared pieces in `ui/common.py`.

`app.py` builds the Blocks by looping over `ui.tabs.TABS`; everything a tab computes lives in
`zoo.demo.tabs` (no Gradio there).
"""
