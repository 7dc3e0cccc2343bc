"""detectron2 adapter for prcore."""
