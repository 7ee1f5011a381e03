"""What the Explore, Interpolate and Map tabs ask for, as plain functions: the model registry,
recipes, directions and the Workspace facade. No Gradio here."""
