"""Operations the surfaces (CLI, REST, chat) and graphs share, over storage: catalog, assets,
provenance. Below graphs/server, above storage; tools and agents never import it."""
