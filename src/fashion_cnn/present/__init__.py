"""Words and pictures: every generated sentence and caption (`text`), every figure and table (`plots`).
They take numbers and results and import nothing that trains."""
