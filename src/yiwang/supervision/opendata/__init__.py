"""Open data (数据开放): public datasets, their DCAT metadata and a CKAN Action API subset."""
