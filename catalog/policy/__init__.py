"""Policy-as-code: the engine interface (engine.py) and policy documents with examples
(documents.py). Storage and evaluation for requests live in catalog.services.policies."""
