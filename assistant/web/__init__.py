"""The web chat (Gradio): the only package that imports ``gradio``.

``adapter`` (pure Python) turns stream events into chat markdown, ``ui`` builds
the Blocks, ``feedback`` stores votes, ``index_service`` runs the index panel,
``run`` starts it all. Nothing here is imported until the web chat starts.
"""
