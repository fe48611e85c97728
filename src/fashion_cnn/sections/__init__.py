"""The report's sections, one module each, in the report's order: `data` (1), `variants` (2, the main
view: its seed plan and ranking serve every other section), `test_evaluation` (3), `kfold` (4),
`augmentation` (5), `tsne` (6), and `summary`, which gathers sections 2 and 3.

Each has `run(setup, …) -> Result`: the runs it trained or read, its numbers, its comparisons and its
figures' data. This is the only floor that decides what trains (through `schedule` and the store).
Import the modules themselves (`from fashion_cnn.sections import variants`); this package imports none.
"""
