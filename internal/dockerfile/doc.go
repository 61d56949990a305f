// Package dockerfile lints Dockerfiles: hadolint's DL rules (same IDs,
// default severities, pragmas and .hadolint.yaml configuration) and
// tollgate's own TG rules for the final image.
//
// A Parser reads a Dockerfile with BuildKit's parser and keeps the raw
// lines for pragmas; RUN scripts are parsed as shell by the shell
// subpackage, which also sees the commands a RUN reaches through sudo-style
// wrappers, sh -c strings and here-documents. A Linter runs the rules (the
// table of Rule values, DL1000 the parse error first) over a parsed file
// and applies pragmas, severity overrides and ignores; Config is the
// resolved configuration (environment < config file < flags, see Resolve),
// and LoadConfigFile is the one reader of .hadolint.yaml and .tollgate.yaml.
//
// The subpackages format (report writers) and runner (the lint command's
// run) build on it; docs/dockerfile-rules.md is generated from the rule
// table.
package dockerfile
