"""Due runs: list the window's files, read, resample, score with the model's detector, write results.jsonl
(:mod:`.runner`). It executes the runs the API's schedulers claim; it may import api/ and learning/."""
