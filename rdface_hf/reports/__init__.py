"""Phenotype reports (``rdface report``): a vision-language model's, or one measured from
landmarks with Human Phenotype Ontology terms."""
