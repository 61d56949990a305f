// Package kube scores Kubernetes manifests for security the way kubesec
// v2.14.2 does (same rule IDs, selectors, points and JSON report), offline.
//
// A Scanner decodes a YAML or JSON stream into documents, validates each one
// by strict typed decoding against the k8s.io/api types, reduces every
// workload kind to its pod spec and runs the rule set over it. Every
// document yields one Report, including documents that do not parse.
package kube
