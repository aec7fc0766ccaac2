"""Learning: the feature table, the split, the model Pipeline, its evaluation and promotion rules."""
