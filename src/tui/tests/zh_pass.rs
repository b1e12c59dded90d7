//! Issue 18: the forward-pass views (embeddings, attention, layernorm, mlp,
//! residual, logits) under zh show no English from the string table.
