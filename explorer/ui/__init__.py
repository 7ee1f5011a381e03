"""The Gradio UI: the only layer that imports gradio. One module per tab (explore_tab, interpolate_tab, map_tab, train_tab), the API, the picker, widgets and plain-words texts."""
from explorer.ui.gradio_import import install

install()        # before any module here imports gradio: its import skips writing type stubs (~5 s)
