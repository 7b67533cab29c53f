"""Drawing graphs: the drawable graph model and its Mermaid, text and Graphviz renderers.
Pure (no engine imports): the graph builder and the functional API both describe
themselves with it."""
