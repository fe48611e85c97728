"""Training: one step and loop (`engine`), a run mid-training saved each epoch (`checkpoint`), what a run
is and its key (`runs`), where runs live (`store`), one run trained into the store (`training`), one
architecture's seeds as one vmapped stack (`stacked`), and many runs at once on Ray (`schedule`).

Nothing here knows about studies, statistics or the report."""
