"""The similarity graph: harmony rules, the incremental k-NN index, the GraphStore port and its adapters.

Import the modules you need (``backend.graph.port``, ``backend.graph.knn`` …); importing the package
itself loads nothing heavy.
"""
