"""Numbers from runs and predictions: metrics and the one test evaluation (`metrics`), intervals, tests,
families and the seed choice (`stats`, `power`), t-SNE maps (`embed`), the data's statistics
(`data_stats`) and the source reports' claims tested (`claims`). `stats` decides every outcome."""
