"""The study stage: one run of the transforms over validated prices (run), conditions on
context (when, groups), analogs of a month, a night's update, and published claims checked."""
