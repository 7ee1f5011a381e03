"""The Train tab's engine, without Gradio: settings and trainer factories, the run session that owns
trainer + view + quality probe + owner, the worker thread, the 2-D view."""
