"""The rule engine: rule, actor, vocabulary and seed files in; matches with evidence out.

Owns the file schema (`schema`), loading and cross-checking (`loader`) into the compiled,
immutable `RuleSet` (`ruleset`), conditions (`condition`, the only user of RE2), dictionary
terms (`terms`), the Aho–Corasick scan (`lexicon`), sentence splitting (`segment`),
matching and inline examples (`match`) and the live, hot-reloaded rule book (`rulebook`).
Pure apart from reading rule files: must not touch the network, the database or alerts.
"""
