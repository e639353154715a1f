"""GraphQL shapes of the catalog (types, inputs, enums); no business rules, no database."""
