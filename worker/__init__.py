"""The billing worker: `python -m worker` (started by `make run`)."""
