"""The rule engine: rule, actor, vocabulary and seed files in; matches with evidence out.

Owns the file schema (`schema`), loading and cross-checking (`loader`) into the compiled,
immutable `RuleSet` (`ruleset`), conditions (`condition`, the only user of RE2), dictionary
terms in their languages (`terms`, with CLDR names from `cldr`), the languages of a rule set
(`languages`), an item's language (`language`; its classifier `langmodel`, py3langid,
loaded only when needed), lemmas (`lemma`, simplemma, its
dictionaries indexed in array passes by `frontcode`, the only user of numpy, and kept as
files every process reads by `lemmafiles`), the
Aho–Corasick scans (`lexicon`), sentence and clause splitting (`segment`), one item's hits
and conditions (`scan`), matching and inline examples (`match`) and the live, hot-reloaded
rule book (`rulebook`).
Pure apart from reading rule files: must not touch the network, the database or alerts.
"""
