"""Example DAGs shipped with tradewind: each file defines one dag and imports only ``tradewind``.

They are loaded when ``[core] load_examples`` is on, and double as the smallest
working samples of each authoring feature.
"""
