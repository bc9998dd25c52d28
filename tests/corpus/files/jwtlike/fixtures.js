// Parser fixtures: strings that look like JWTs but are not tokens.
export const notJson = "eyJub3QganNvbiBhdCBhbGw.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";
export const noAlg = "eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiIxMjMifQ.dGhpcy1pcy1ub3QtYS1zaWc";
export const truncated = "eyJhbGciOiJIUzI1NiIsInR5cCI6";
export const prefixOnly = "eyJ...";
export const moduleName = "eyJ.eyJ.sig";
