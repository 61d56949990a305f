package fix

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tollgate-dev/tollgate/internal/dockerfile"
)

// TestRulesMarkedFixable checks that `dockerfile rules` marks exactly the
// rules this package has a fix for.
func TestRulesMarkedFixable(t *testing.T) {
	var marked, fixed []string
	for _, r := range dockerfile.Rules() {
		if r.Fixable {
			marked = append(marked, r.ID)
		}
	}
	for _, r := range Rules() {
		fixed = append(fixed, r.ID)
	}
	slices.Sort(marked)
	if diff := cmp.Diff(fixed, marked); diff != "" {
		t.Errorf("fixable rules (-fix package +dockerfile rules):\n%s", diff)
	}
}

func TestFix(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		in   string
		want string
	}{
		{
			name: "apt update and install merged and cleaned",
			in: `FROM debian:12-slim
# refresh the lists
RUN apt-get update
# the tools
RUN apt-get install curl
USER 10001
`,
			want: `FROM debian:12-slim
# refresh the lists
RUN apt-get update && \
    # the tools
    apt-get install -y --no-install-recommends curl && \
    rm -rf /var/lib/apt/lists/*
USER 10001
`,
		},
		{
			name: "here-document fed to a shell gets the same hygiene as RUN <<EOF",
			in: `FROM debian:12-slim
RUN <<EOT bash
set -e
apt-get update
apt-get install curl
EOT
USER 10001
`,
			want: `FROM debian:12-slim
RUN <<EOT bash
set -e
apt-get update
apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
EOT
USER 10001
`,
		},
		{
			name: "wrapped package managers fixed in place (sudo, xargs)",
			in: `FROM alpine:3.20
RUN sudo apt-get install curl && echo x | xargs -rt apk add --virtual .rundeps
USER 10001
`,
			want: `FROM alpine:3.20
RUN sudo apt-get install -y --no-install-recommends curl && echo x | xargs -rt apk add --no-cache --virtual .rundeps
USER 10001
`,
		},
		{
			name: "failure semantics kept: ; and || grouped, cd isolated",
			in: `FROM debian:12-slim
RUN cd /tmp && make
RUN a; b
RUN c || d
USER 10001
`,
			want: `FROM debian:12-slim
RUN ( cd /tmp && make ) && \
    { a; b; } && \
    { c || d; }
USER 10001
`,
		},
		{
			name: "leading && style and indentation kept, LABEL stepped over",
			in: `FROM debian:12-slim
RUN true \
  && echo one
LABEL a=b
RUN echo two
USER 10001
`,
			want: `FROM debian:12-slim
RUN true \
  && echo one \
  && echo two
LABEL a=b
USER 10001
`,
		},
		{
			name: "no merge across WORKDIR, flags or a pragma",
			in: `FROM debian:12-slim
RUN echo a
WORKDIR /x
RUN echo b
RUN --network=none echo c
# hadolint ignore=DL3059
RUN echo d
USER 10001
`,
			want: `FROM debian:12-slim
RUN echo a
WORKDIR /x
RUN echo b
RUN --network=none echo c
# hadolint ignore=DL3059
RUN echo d
USER 10001
`,
		},
		{
			name: "exec-form RUN left alone",
			in: `FROM debian:12-slim
RUN ["echo", "a"]
RUN echo b
USER 10001
`,
			want: `FROM debian:12-slim
RUN ["echo", "a"]
RUN echo b
USER 10001
`,
		},
		{
			name: "user created on Debian, joined to the last RUN, USER before CMD",
			in: `FROM debian:12-slim
RUN echo build
COPY app /app
CMD ["/app"]
`,
			want: `FROM debian:12-slim
RUN echo build && \
    useradd -r -l -U -u 10001 app
COPY app /app
USER 10001
CMD ["/app"]
`,
		},
		{
			name: "user on busybox without a user tool, no RUN before",
			in: `FROM busybox:1.36
COPY app /app
CMD ["/app"]`,
			want: `FROM busybox:1.36
COPY app /app
RUN echo 'app:x:10001:10001::/nonexistent:/bin/false' >> /etc/passwd && echo 'app:x:10001:' >> /etc/group
USER 10001
CMD ["/app"]`,
		},
		{
			name: "distroless gets the nonroot UID",
			in: `FROM golang:1.23 AS build
RUN go build -o /app .
FROM gcr.io/distroless/static-debian12
COPY --from=build /app /app
ENTRYPOINT ["/app"]
`,
			want: `FROM golang:1.23 AS build
RUN go build -o /app .
FROM gcr.io/distroless/static-debian12
COPY --from=build /app /app
USER 65532
ENTRYPOINT ["/app"]
`,
		},
		{
			name: "alpine: apk --no-cache and adduser",
			in: `FROM alpine:3.20
RUN apk update && apk add curl
`,
			want: `FROM alpine:3.20
RUN apk update --no-cache && apk add --no-cache curl && \
    addgroup -S -g 10001 app && adduser -S -D -H -u 10001 -G app app
USER 10001
`,
		},
		{
			name: "shell syntax keeps shell form",
			in: `FROM debian:12-slim
USER 10001
CMD echo $HOME
ENTRYPOINT exec /app
`,
			want: `FROM debian:12-slim
USER 10001
CMD echo $HOME
ENTRYPOINT exec /app
`,
		},
		{
			name: "debug tools dropped when asked, kept when used later",
			opts: Options{Rules: []string{"TG103"}},
			in: `FROM debian:12-slim
RUN apt-get install -y --no-install-recommends curl vim strace
CMD ["strace", "/app"]
`,
			want: `FROM debian:12-slim
RUN apt-get install -y --no-install-recommends curl strace
CMD ["strace", "/app"]
`,
		},
		{
			name: "yum: -y and clean all",
			in: `FROM centos:7
RUN yum install httpd
USER 10001
`,
			want: `FROM centos:7
RUN yum install -y httpd && \
    yum clean all && rm -rf /var/cache/yum
USER 10001
`,
		},
		{
			name: "dnf and microdnf clean all",
			in: `FROM fedora:40
RUN dnf install nginx
FROM registry.access.redhat.com/ubi9/ubi-minimal
RUN microdnf install -y nginx
USER 10001
`,
			want: `FROM fedora:40
RUN dnf install -y nginx && \
    dnf clean all
FROM registry.access.redhat.com/ubi9/ubi-minimal
RUN microdnf install -y nginx && \
    microdnf clean all
USER 10001
`,
		},
		{
			name: "zypper non-interactive and clean",
			in: `FROM opensuse/leap:15.6
RUN zypper install curl
USER 10001
`,
			want: `FROM opensuse/leap:15.6
RUN zypper -n install curl && \
    zypper clean --all
USER 10001
`,
		},
		{
			name: "npm and yarn caches, python -m pip",
			in: `FROM node:22-slim
RUN npm ci && yarn install && python3 -m pip install -r requirements.txt
USER node
`,
			want: `FROM node:22-slim
RUN npm ci && yarn install && python3 -m pip install --no-cache-dir -r requirements.txt && \
    npm cache clean --force && \
    yarn cache clean
USER node
`,
		},
		{
			name: "apt lists kept for a later install without update",
			in: `FROM debian:12-slim
RUN apt-get update && apt-get install -y --no-install-recommends a
COPY x /x
RUN apt-get install -y --no-install-recommends b
USER 10001
`,
			want: `FROM debian:12-slim
RUN apt-get update && apt-get install -y --no-install-recommends a
COPY x /x
RUN apt-get install -y --no-install-recommends b
USER 10001
`,
		},
		{
			name: "chown of exactly the COPY destination is dropped with its RUN",
			in: `FROM debian:12-slim
RUN useradd -r -u 10001 app
COPY --from=build /out /app
RUN chown -R app:app /app
USER app
`,
			want: `FROM debian:12-slim
RUN useradd -r -u 10001 app
COPY --chown=app:app --from=build /out /app
USER app
`,
		},
		{
			name: "chown of a user created after the COPY is left alone",
			in: `FROM debian:12-slim
COPY . /app
RUN useradd -r app && chown -R app /app
USER app
`,
			want: `FROM debian:12-slim
COPY . /app
RUN useradd -r app && chown -R app /app
USER app
`,
		},
		{
			name: "HEALTHCHECK CMD in exec form, flags and line break kept",
			in: `FROM node:22-slim
USER node
HEALTHCHECK --interval=30s \
  CMD node healthcheck.js
`,
			want: `FROM node:22-slim
USER node
HEALTHCHECK --interval=30s \
  CMD ["node", "healthcheck.js"]
`,
		},
		{
			name: "ENTRYPOINT with a CMD keeps shell form (CMD would become its arguments)",
			in: `FROM debian:12-slim
USER 10001
ENTRYPOINT /app --serve
CMD ["--help"]
`,
			want: `FROM debian:12-slim
USER 10001
ENTRYPOINT /app --serve
CMD ["--help"]
`,
		},
		{
			name: "RUN <<EOF: flags in place, cleanup joined to the last command",
			in: `FROM debian:12-slim
RUN <<EOF
apt-get update
apt-get install git
EOF
RUN echo after
USER 10001
`,
			want: `FROM debian:12-slim
RUN <<EOF
apt-get update
apt-get install -y --no-install-recommends git && rm -rf /var/lib/apt/lists/*
EOF
RUN echo after
USER 10001
`,
		},
		{
			name: "CRLF line endings and a lowercase file",
			in:   "from debian:12-slim\r\nrun echo a\r\nrun echo b\r\nuser 10001\r\n",
			want: "from debian:12-slim\r\nrun echo a && \\\r\n    echo b\r\nuser 10001\r\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Fix("Dockerfile", []byte(tt.in), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, string(res.Output)); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
			again, err := Fix("Dockerfile", res.Output, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if string(again.Output) != string(res.Output) {
				t.Errorf("not a fixed point:\n%s", again.Output)
			}
		})
	}
}

func TestFixErrors(t *testing.T) {
	_, err := Fix("Dockerfile", []byte("FROM x\nBOGUS y\n"), Options{})
	if pe, ok := errors.AsType[*dockerfile.ParseError](err); !ok || pe.Line != 2 {
		t.Errorf("parse error = %v, want a *ParseError at line 2", err)
	}
	_, err = Fix("Dockerfile", []byte("FROM x\n"), Options{Rules: []string{"DL3008"}})
	if !errors.Is(err, ErrUnknownRule) || !strings.Contains(err.Error(), "DL3008") {
		t.Errorf("unknown rule error = %v", err)
	}
}

func TestBaseReplaced(t *testing.T) {
	res, err := Fix("Dockerfile", []byte("FROM golang:1.23 AS build\nRUN go build\nFROM build AS final\nRUN apt-get update && apt-get install -y --no-install-recommends a && rm -rf /var/lib/apt/lists/*\nUSER 1\n"),
		Options{Rules: []string{"TG104"}, Base: "alpine:3.20"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(res.Output), "FROM alpine:3.20 AS build\n") {
		t.Errorf("the root of the final image's stages was not replaced:\n%s", res.Output)
	}
	if !slices.ContainsFunc(res.Notes, func(n Note) bool { return strings.Contains(n.Message, "not translated") }) {
		t.Errorf("no warning about apt on an apk base: %v", res.Notes)
	}
}
