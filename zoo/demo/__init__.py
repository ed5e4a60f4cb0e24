"""UI-free logic of the Gradio app."""
