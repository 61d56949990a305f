package dockerfile

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// ruleCase lints dockerfile and compares the "line:RULE" findings of the
// rules named in rules (all findings when empty) with want.
type ruleCase struct {
	name       string
	dockerfile string
	cfg        func(*Config)
	rules      []string
	want       []string
}

func runRuleCases(t *testing.T, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := DefaultConfig()
			// Rules that are off by default are visible in these tests.
			cfg.Override.Info = []string{"DL1001", "DL3057"}
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			res := NewLinter(cfg).Lint("Dockerfile", []byte(tc.dockerfile))
			if res.ParseError != nil {
				t.Fatalf("parse error: %v", res.ParseError)
			}
			got := []string{}
			for _, f := range res.Findings {
				if len(tc.rules) == 0 || slices.Contains(tc.rules, f.Rule) {
					got = append(got, fmt.Sprintf("%d:%s", f.Line, f.Rule))
				}
			}
			want := tc.want
			if want == nil {
				want = []string{}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s\nall findings:\n%s", diff, describe(res.Findings))
			}
		})
	}
}

func describe(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "  %d %s %s: %s\n", f.Line, f.Rule, f.Severity, f.Message)
	}
	return b.String()
}

func lines(s ...string) string { return strings.Join(s, "\n") + "\n" }

func TestBaseImageRules(t *testing.T) {
	rules := []string{"DL3006", "DL3007", "DL3026", "DL3029", "DL3065", "DL3024", "DL3063", "TG104"}
	runRuleCases(t, []ruleCase{
		{name: "untagged and latest", rules: rules, dockerfile: lines(
			"FROM golang AS build",
			"FROM alpine:latest",
			"FROM build",
			"FROM debian:latest@sha256:0123",
			"FROM gcr.io/distroless/static:nonroot"),
			want: []string{"1:DL3006", "2:DL3007"}},
		{name: "variables and scratch pass", rules: rules, dockerfile: lines(
			"ARG BASE=alpine:3.20",
			"FROM ${BASE}",
			"FROM scratch"), want: nil},
		{name: "registry with port is not a tag", rules: rules, dockerfile: lines("FROM localhost:5000/app"),
			want: []string{"1:DL3006", "1:TG104"}},
		{name: "platform", rules: rules, dockerfile: lines(
			"FROM --platform=linux/amd64 alpine:3.20 AS a",
			"FROM --platform=$BUILDPLATFORM alpine:3.20 AS b",
			"FROM --platform=${TARGETPLATFORM} alpine:3.20 AS c"),
			want: []string{"1:DL3029", "3:DL3065"}},
		{name: "duplicate and reserved aliases", rules: rules, dockerfile: lines(
			"FROM alpine:3.20 AS build",
			"FROM alpine:3.20 AS build",
			"FROM alpine:3.20 AS context"),
			want: []string{"2:DL3024", "3:DL3063"}},
		{name: "trusted registries", rules: rules,
			cfg: func(c *Config) { c.TrustedRegistries = []string{"*.corp.example", "ghcr.io"} },
			dockerfile: lines(
				"FROM registry.corp.example/base:1 AS a",
				"FROM ghcr.io/org/tool:2 AS b",
				"FROM quay.io/org/tool:2 AS c",
				"FROM debian:12 AS d",
				"FROM a",
				"COPY --from=quay.io/x/y:1 /a /a",
				"RUN --mount=type=cache,target=/c,from=ghcr.io/x/y:1 true",
				"RUN --mount=type=bind,target=/c,from=docker.io/x:1 true"),
			want: []string{"1:TG104", "3:DL3026", "4:DL3026", "6:DL3026", "8:DL3026"}},
		{name: "minimal base of the final stage only", rules: []string{"TG104"}, dockerfile: lines(
			"FROM golang:1.23 AS build",
			"FROM build AS test",
			"FROM gcr.io/distroless/static-debian12"), want: nil},
		{name: "full base reached through stage aliases", rules: []string{"TG104"}, dockerfile: lines(
			"FROM ubuntu:24.04 AS base",
			"FROM base AS app"), want: []string{"1:TG104"}},
		{name: "slim and alpine variants are minimal", rules: []string{"TG104"}, dockerfile: lines(
			"FROM python:3.12-slim AS a",
			"FROM node:22-alpine"), want: nil},
	})
}

func TestCredentialRule(t *testing.T) {
	// Made-up values shaped like real credentials.
	const tok = "ghp_T0llgateMadeUpTokenForTests000000042"
	runRuleCases(t, []ruleCase{
		{name: "ENV, ARG default and RUN", rules: []string{"TG107"}, dockerfile: lines(
			"FROM alpine:3.20",
			"ENV GITHUB_TOKEN="+tok,
			"ARG DB_PASSWORD=Tollgate-Made-Up-Pw42",
			"RUN git clone https://ci:Tollgate-Made-Up-Pw42@git.example.com/app.git"),
			want: []string{"2:TG107", "3:TG107", "4:TG107"}},
		{name: "references and names without values", rules: []string{"TG107"}, dockerfile: lines(
			"FROM alpine:3.20",
			"ARG GITHUB_TOKEN",
			"ENV GITHUB_TOKEN=${GITHUB_TOKEN} GPG_KEY=0123456789ABCDEF ACCESS_LOG=/var/log/access.log",
			"RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci"),
			want: nil},
	})
	res := NewLinter(DefaultConfig()).Lint("Dockerfile", []byte("FROM alpine\nENV T="+tok+"\n"))
	if len(res.Findings) == 0 {
		t.Fatal("no finding")
	}
	for _, f := range res.Findings {
		if strings.Contains(f.Message, tok) || (f.Rule == "TG107" && !strings.Contains(f.Message, "****")) {
			t.Errorf("message shows the value or no mask: %q", f.Message)
		}
	}
}

func TestUserRules(t *testing.T) {
	rules := []string{"DL3002", "DL3066", "TG105"}
	runRuleCases(t, []ruleCase{
		{name: "root at the end of a stage", rules: rules, dockerfile: lines(
			"FROM alpine:3.20 AS build",
			"USER 1000",
			"USER root",
			"FROM alpine:3.20",
			"USER 0:0"),
			want: []string{"3:DL3002", "3:DL3066", "5:DL3002", "5:TG105"}},
		{name: "switching back to a user", rules: rules, dockerfile: lines(
			"FROM alpine:3.20",
			"USER root",
			"RUN true",
			"USER 10001"), want: []string{"2:DL3066"}},
		{name: "named user and ARG user", rules: rules, dockerfile: lines(
			"FROM alpine:3.20",
			"ARG UID=10001",
			"USER app",
			"USER ${UID}:${UID}"), want: []string{"3:DL3066"}},
		{name: "no USER in the final image", rules: rules, dockerfile: lines(
			"FROM alpine:3.20 AS build",
			"USER 1000",
			"FROM alpine:3.20",
			"RUN true"), want: []string{"3:TG105"}},
		{name: "USER inherited from the parent stage", rules: rules, dockerfile: lines(
			"FROM alpine:3.20 AS base",
			"USER 10001",
			"FROM base",
			"RUN true"), want: nil},
		{name: "nonroot base image", rules: rules, dockerfile: lines(
			"FROM gcr.io/distroless/static:nonroot"), want: nil},
	})
}

func TestAptRules(t *testing.T) {
	rules := []string{"DL3008", "DL3009", "DL3014", "DL3015", "DL3027", "TG102"}
	runRuleCases(t, []ruleCase{
		{name: "everything wrong", rules: rules, dockerfile: lines(
			"FROM debian:12",
			"RUN apt-get update && apt-get install curl"),
			want: []string{"2:DL3008", "2:DL3009", "2:DL3014", "2:DL3015", "2:TG102"}},
		{name: "everything right", rules: rules, dockerfile: lines(
			"FROM debian:12",
			"RUN apt-get update \\",
			"  && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u5 \\",
			"  && rm -rf /var/lib/apt/lists/*"), want: nil},
		{name: "cleanup before update does not count for tollgate", rules: rules, dockerfile: lines(
			"FROM debian:12",
			"RUN rm -rf /var/lib/apt/lists/* && apt-get update && apt-get install -y --no-install-recommends a=1"),
			want: []string{"2:TG102"}},
		{name: "apt-get dist-clean removes the lists", rules: []string{"TG102"}, dockerfile: lines(
			"FROM debian:13",
			"RUN apt-get update; apt-get install -y --no-install-recommends a=1; apt-get dist-clean"), want: nil},
		{name: "cache mount", rules: rules, dockerfile: lines(
			"FROM debian:12",
			"RUN --mount=type=cache,target=/var/lib/apt/lists apt-get update && apt-get install -qq --no-install-recommends a=1"),
			want: nil},
		{name: "apt in scripts", rules: rules, dockerfile: lines(
			"FROM debian:12",
			"RUN apt install -y a=1 && rm -rf /var/lib/apt/lists/*"), want: []string{"2:DL3027"}},
		{name: "apt lists in a build stage are thrown away", rules: rules, dockerfile: lines(
			"FROM debian:12 AS build",
			"RUN apt-get update && apt-get install -y --no-install-recommends gcc=4",
			"FROM debian:12-slim"), want: nil},
		{name: "target release value is not a package", rules: []string{"DL3008"}, dockerfile: lines(
			"FROM debian:12",
			"RUN apt-get install -y -t bookworm-backports curl/bookworm-backports"), want: nil},
		{name: "inside ONBUILD", rules: rules, dockerfile: lines(
			"FROM debian:12",
			"ONBUILD RUN apt-get install -y --no-install-recommends curl"), want: []string{"2:DL3008"}},
	})
}

func TestOtherPackageManagerRules(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "apk", rules: []string{"DL3018", "DL3019", "TG102"}, dockerfile: lines(
			"FROM alpine:3.20",
			"RUN apk add curl",
			"RUN apk add --no-cache curl=8.9.0-r0",
			"RUN apk add --virtual .build gcc=13 && apk del .build"),
			want: []string{"2:DL3018", "2:DL3019", "2:TG102", "4:DL3019", "4:TG102"}},
		{name: "pip", rules: []string{"DL3013", "DL3042", "TG102"}, dockerfile: lines(
			"FROM python:3.12-slim",
			"RUN pip install flask",
			"RUN pip install --no-cache-dir -r requirements.txt",
			"RUN python -m pip install --index-url https://x/simple requests==2.32.3",
			"RUN pip install ./dist/app.whl"),
			want: []string{"2:DL3013", "2:DL3042", "2:TG102", "4:DL3042", "4:TG102", "5:DL3042", "5:TG102"}},
		{name: "pip cache switched off by ENV", rules: []string{"DL3042", "TG102"}, dockerfile: lines(
			"FROM python:3.12-slim",
			"ENV PIP_NO_CACHE_DIR=1",
			"RUN pip install flask==3.0.3"), want: nil},
		{name: "pip cache switched off inline", rules: []string{"DL3042", "TG102"}, dockerfile: lines(
			"FROM python:3.12-slim",
			"RUN PIP_NO_CACHE_DIR=on pip install flask==3.0.3",
			"RUN PIP_NO_CACHE_DIR=0 pip install flask==3.0.3"), want: []string{"3:DL3042", "3:TG102"}},
		{name: "npm", rules: []string{"DL3016", "TG102"}, dockerfile: lines(
			"FROM node:22-alpine",
			"RUN npm install express",
			"RUN npm install express@4.19.2 @scope/pkg@1.0.0 ./local && npm cache clean --force",
			"RUN npm ci"),
			want: []string{"2:DL3016", "2:TG102", "4:TG102"}},
		{name: "yum and dnf", rules: []string{"DL3030", "DL3032", "DL3033", "DL3038", "DL3040", "DL3041", "TG102"}, dockerfile: lines(
			"FROM rockylinux:9",
			"RUN yum install httpd",
			"RUN yum install -y httpd-2.4.57 && yum clean all",
			"RUN dnf install -y tomcat && dnf clean all",
			"RUN microdnf install -y tomcat-9.0.1"),
			want: []string{"2:DL3030", "2:DL3032", "2:DL3033", "2:TG102", "4:DL3041", "5:DL3040", "5:TG102"}},
		{name: "zypper", rules: []string{"DL3034", "DL3035", "DL3036", "DL3037"}, dockerfile: lines(
			"FROM opensuse/leap:15.6",
			"RUN zypper install httpd",
			"RUN zypper -n install httpd=2.4 && zypper clean",
			"RUN zypper dup"),
			want: []string{"2:DL3034", "2:DL3036", "2:DL3037", "4:DL3035"}},
		{name: "gem and go", rules: []string{"DL3028", "DL3062"}, dockerfile: lines(
			"FROM ruby:3.3",
			"RUN gem install rails && gem install bundler:2.5.0",
			"RUN go install example.com/tool@latest && go install ./cmd/app",
			"RUN go run example.com/gen@v1.2.3 -o out"),
			want: []string{"2:DL3028", "3:DL3062"}},
		{name: "yarn", rules: []string{"DL3060", "TG102"}, dockerfile: lines(
			"FROM node:22-alpine",
			"RUN yarn install --frozen-lockfile",
			"RUN yarn install && yarn cache clean"),
			want: []string{"2:DL3060", "2:TG102"}},
	})
}

func TestDebugToolsRule(t *testing.T) {
	rules := []string{"TG103"}
	runRuleCases(t, []ruleCase{
		{name: "tools in the final image", rules: rules, dockerfile: lines(
			"FROM debian:12",
			"RUN apt-get install -y --no-install-recommends vim=2:9 curl=7 strace && rm -rf /var/lib/apt/lists/*",
			"RUN apk add --no-cache tcpdump sudo"),
			want: []string{"2:TG103", "3:TG103"}},
		{name: "removed in the same RUN", rules: rules, dockerfile: lines(
			"FROM debian:12",
			"RUN apt-get install -y gdb && ./debug-build.sh && apt-get purge -y gdb"), want: nil},
		{name: "tools in a build stage", rules: rules, dockerfile: lines(
			"FROM debian:12 AS build",
			"RUN apt-get install -y gdb strace",
			"FROM debian:12-slim"), want: nil},
	})
}

func TestLayerRules(t *testing.T) {
	rules := []string{"DL3059", "TG101"}
	runRuleCases(t, []ruleCase{
		{name: "consecutive single-command runs", rules: rules, dockerfile: lines(
			"FROM alpine:3.20",
			"RUN a",
			"# comment",
			"RUN b",
			"WORKDIR /x",
			"RUN c && d",
			"RUN e"),
			want: []string{"4:DL3059", "4:TG101", "7:TG101"}},
		{name: "different mounts", rules: rules, dockerfile: lines(
			"FROM alpine:3.20",
			"RUN --mount=type=secret,id=a a",
			"RUN b"), want: nil},
		{name: "build stages do not count for tollgate", rules: rules, dockerfile: lines(
			"FROM alpine:3.20 AS build",
			"RUN a && b",
			"RUN c && d",
			"FROM alpine:3.20"), want: nil},
	})
}

func TestCopyRules(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "copy then chown", rules: []string{"TG106"}, dockerfile: lines(
			"FROM alpine:3.20",
			"WORKDIR /app",
			"COPY . .",
			"COPY --chown=app:app conf /etc/app",
			"RUN chown -R app:app /app",
			"RUN chown -R app /etc/app",
			"RUN chmod -R 755 /app/bin"),
			want: []string{"5:TG106", "7:TG106"}},
		{name: "chown of unrelated path", rules: []string{"TG106"}, dockerfile: lines(
			"FROM alpine:3.20",
			"COPY app /opt/app",
			"RUN chown -R app /var/log/app && chown app /opt/app"), want: nil},
		{name: "copy and add", rules: []string{"DL3010", "DL3020", "DL3021", "DL3022", "DL3023", "DL3045", "DL3067"}, dockerfile: lines(
			"FROM alpine:3.20 AS build",
			"COPY app.tar.gz /tmp/",
			"RUN tar -xzf /tmp/app.tar.gz",
			"ADD conf.yaml /etc/",
			"ADD https://example.com/x.tgz /tmp/",
			"COPY a b /dest",
			"COPY --from=build /x /y",
			"COPY --from=nowhere /x /y",
			"COPY rel rel",
			"FROM alpine:3.20",
			"COPY --from=0 / /"),
			want: []string{"2:DL3010", "4:DL3020", "6:DL3021", "7:DL3023", "8:DL3022", "9:DL3045", "11:DL3067"}},
	})
}

func TestShellRules(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "pipes", rules: []string{"DL4006"}, dockerfile: lines(
			"FROM alpine:3.20",
			"RUN curl -s x | sh",
			`SHELL ["/bin/ash", "-eo", "pipefail", "-c"]`,
			"RUN curl -s x | sh",
			"FROM alpine:3.20",
			"RUN curl -s x | sh"),
			want: []string{"2:DL4006", "6:DL4006"}},
		{name: "powershell is not parsed as shell", rules: []string{"DL4006", "DL3003"}, dockerfile: lines(
			"FROM mcr.microsoft.com/windows/servercore:ltsc2022",
			`SHELL ["powershell", "-Command"]`,
			"RUN cd C:\\ ; Get-ChildItem | Select-Object Name"), want: nil},
		{name: "shell pragma", rules: []string{"DL4006"}, dockerfile: lines(
			"# hadolint shell=pwsh",
			"FROM mcr.microsoft.com/powershell:7.4",
			"RUN Get-Item x | Remove-Item"), want: nil},
		{name: "commands that do not belong", rules: []string{"DL3001", "DL3003", "DL3004", "DL4001", "DL4005"}, dockerfile: lines(
			"FROM alpine:3.20",
			"RUN cd /tmp && sudo make",
			"RUN wget -q x && curl -s y",
			"RUN ln -sf /bin/bash /bin/sh",
			"RUN service nginx start"),
			want: []string{"2:DL3003", "2:DL3004", "3:DL4001", "4:DL4005", "5:DL3001"}},
		{name: "heredoc script is parsed", rules: []string{"DL3003", "DL3008"}, dockerfile: lines(
			"FROM debian:12",
			"RUN <<EOF",
			"set -e",
			"cd /tmp",
			"apt-get install -y curl",
			"EOF"),
			want: []string{"2:DL3003", "2:DL3008"}},
		{name: "exec form is parsed", rules: []string{"DL3004"}, dockerfile: lines(
			"FROM debian:12",
			`RUN ["sudo", "true"]`), want: []string{"2:DL3004"}},
		{name: "wget progress and useradd", rules: []string{"DL3047", "DL3046"}, dockerfile: lines(
			"FROM debian:12",
			"RUN wget https://x/y",
			"RUN useradd -u 1000000 app && useradd -l -u 1000001 b"),
			want: []string{"2:DL3047", "3:DL3046"}},
	})
}

func TestInstructionRules(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "structure", rules: []string{"DL3000", "DL3011", "DL3012", "DL3025", "DL3043", "DL3061", "DL4000", "DL4003", "DL4004", "DL3057"}, dockerfile: lines(
			"LABEL a=b",
			"FROM alpine:3.20",
			"MAINTAINER me",
			"WORKDIR app",
			"EXPOSE 80 70000/tcp 8000-8010",
			"HEALTHCHECK CMD curl -f localhost",
			"HEALTHCHECK NONE",
			"CMD a",
			`CMD ["b"]`,
			`ENTRYPOINT ["c"]`,
			`ENTRYPOINT ["d"]`,
			"ONBUILD ONBUILD RUN x"),
			want: []string{"1:DL3061", "3:DL4000", "4:DL3000", "5:DL3011", "6:DL3025", "7:DL3012", "8:DL3025", "9:DL4003", "11:DL4004", "12:DL3043"}},
		{name: "missing healthcheck", rules: []string{"DL3057"}, dockerfile: lines(
			"FROM alpine:3.20 AS base",
			"HEALTHCHECK CMD [\"true\"]",
			"FROM base",
			"FROM alpine:3.20"), want: []string{"4:DL3057"}},
		{name: "env and arg", rules: []string{"DL3044", "DL3064"}, dockerfile: lines(
			"ARG GITHUB_TOKEN",
			"FROM alpine:3.20",
			"ENV A=1 B=$A",
			"ENV PATH=/x:$PATH C=${A}",
			"ENV db_password=x"),
			want: []string{"1:DL3064", "3:DL3044", "5:DL3064"}},
	})
}

func TestLabelRules(t *testing.T) {
	schema := func(c *Config) {
		c.LabelSchema = map[string]LabelType{
			"org.opencontainers.image.source":  LabelURL,
			"org.opencontainers.image.created": LabelRFC3339,
			"org.opencontainers.image.license": LabelSPDX,
			"org.opencontainers.image.rev":     LabelHash,
			"org.opencontainers.image.version": LabelSemver,
			"maintainer":                       LabelEmail,
			"team":                             LabelText,
		}
	}
	runRuleCases(t, []ruleCase{
		{name: "label keys", rules: []string{"DL3048"}, dockerfile: lines(
			"FROM alpine:3.20",
			"LABEL org.example.ok=1",
			"LABEL Bad=1",
			`LABEL com.docker.x=1 "a..b"=2`), want: []string{"3:DL3048", "4:DL3048"}},
		{name: "valid values", cfg: schema, rules: []string{"DL3049", "DL3051", "DL3052", "DL3053", "DL3054", "DL3055", "DL3056", "DL3058"}, dockerfile: lines(
			"FROM alpine:3.20",
			`LABEL org.opencontainers.image.source="https://github.com/x/y" \`,
			`      org.opencontainers.image.created="2024-05-01T12:00:00Z" \`,
			`      org.opencontainers.image.license="Apache-2.0 OR MIT" \`,
			`      org.opencontainers.image.rev="0123abc" \`,
			`      org.opencontainers.image.version="1.4.2-rc.1" \`,
			`      maintainer="team@example.com" team="platform"`), want: nil},
		{name: "invalid values", cfg: schema, rules: []string{"DL3049", "DL3051", "DL3052", "DL3053", "DL3054", "DL3055", "DL3056", "DL3058"}, dockerfile: lines(
			"FROM alpine:3.20",
			`LABEL org.opencontainers.image.source="github" \`,
			`      org.opencontainers.image.created="yesterday" \`,
			`      org.opencontainers.image.license="Apache-2.0 OR Nonsense" \`,
			`      org.opencontainers.image.rev="0123ABC" \`,
			`      org.opencontainers.image.version="1.4" \`,
			`      maintainer="Team <team@example.com>" team=""`),
			want: []string{"2:DL3051", "2:DL3052", "2:DL3053", "2:DL3054", "2:DL3055", "2:DL3056", "2:DL3058"}},
		{name: "missing and strict", cfg: func(c *Config) {
			c.LabelSchema = map[string]LabelType{"team": LabelText}
			c.StrictLabels = true
		}, rules: []string{"DL3049", "DL3050"}, dockerfile: lines(
			"FROM alpine:3.20 AS build",
			"FROM alpine:3.20",
			"COPY --from=build /x /x",
			"LABEL other=1"), want: []string{"2:DL3049", "4:DL3050"}},
		{name: "label rules are off without a schema", rules: []string{"DL3049", "DL3050", "DL3051"}, dockerfile: lines(
			"FROM alpine:3.20",
			`LABEL x=""`), want: nil},
	})
}

func TestPragmasAndConfig(t *testing.T) {
	df := lines(
		"# hadolint global ignore=DL3059",
		"FROM debian AS build",
		"# hadolint ignore=DL3003,DL3004",
		"RUN cd /x && sudo make",
		"RUN cd /y",
		"# tollgate ignore=TG101",
		"RUN echo",
		"# hadolint stage ignore=DL3003",
		"FROM build",
		"RUN cd /z")
	rules := []string{"DL1001", "DL3003", "DL3004", "DL3006", "DL3059", "TG101"}
	runRuleCases(t, []ruleCase{
		{name: "pragmas", dockerfile: df, rules: rules,
			want: []string{"2:DL3006", "3:DL1001", "5:DL3003", "5:TG101", "6:DL1001"}},
		{name: "pragmas disabled", dockerfile: df, rules: rules, cfg: func(c *Config) { c.DisableIgnorePragma = true },
			want: []string{"2:DL3006", "3:DL1001", "4:DL3003", "4:DL3004", "5:DL3003", "5:TG101", "6:DL1001", "7:DL3059", "7:TG101", "10:DL3003"}},
		{name: "ignored by config", dockerfile: df, rules: rules, cfg: func(c *Config) { c.Ignored = []string{"DL3003", "DL1001"} },
			want: []string{"2:DL3006", "5:TG101"}},
		{name: "a malformed pragma ignores nothing", rules: []string{"DL3002"}, dockerfile: lines(
			"FROM alpine:3.20",
			"# hadolint ignore=crazy,DL3002",
			"USER root"), want: []string{"3:DL3002"}},
		{name: "the pragma must be right above", rules: []string{"DL3002"}, dockerfile: lines(
			"FROM alpine:3.20",
			"# hadolint ignore=DL3002",
			"",
			"USER root"), want: []string{"4:DL3002"}},
	})

	t.Run("severity override", func(t *testing.T) {
		cfg := DefaultConfig()
		cfg.Override = Override{Error: []string{"DL3006"}, Style: []string{"DL3006", "DL3025"}}
		res := NewLinter(cfg).Lint("Dockerfile", []byte(lines("FROM debian", "CMD run")))
		got := map[string]Severity{}
		for _, f := range res.Findings {
			got[f.Rule] = f.Severity
		}
		if got["DL3006"] != SeverityError || got["DL3025"] != SeverityStyle {
			t.Errorf("severities = %v, want DL3006 error (error wins over style), DL3025 style", got)
		}
		if !res.Failed(SeverityWarning) || res.Failed(SeverityError+1) {
			t.Error("Failed() does not follow the threshold")
		}
	})
	t.Run("default configuration: the pragma hides DL3006, DL1001 is off", func(t *testing.T) {
		res := NewLinter(DefaultConfig()).Lint("Dockerfile", []byte(lines("# hadolint ignore=DL3006", "FROM debian")))
		if diff := cmp.Diff([]string{"2:TG104", "2:TG105"}, findingSet(res.Findings)); diff != "" {
			t.Errorf("findings (-want +got):\n%s", diff)
		}
	})
}

// TestRulesDoc keeps docs/dockerfile-rules.md in step with the rules: its
// reference section must be exactly what WriteRulesMarkdown prints.
func TestRulesDoc(t *testing.T) {
	doc, err := os.ReadFile("../../docs/dockerfile-rules.md")
	if err != nil {
		t.Fatal(err)
	}
	const marker = "<!-- generated: tollgate dockerfile rules -f markdown; TestRulesDoc keeps it in sync -->\n"
	_, generated, ok := strings.Cut(string(doc), marker)
	if !ok {
		t.Fatalf("docs/dockerfile-rules.md lacks the marker %q", marker)
	}
	var b strings.Builder
	if err := WriteRulesMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(b.String(), generated); diff != "" {
		t.Errorf("docs/dockerfile-rules.md is out of date; regenerate the reference with `tollgate dockerfile rules -f markdown` (-want +got):\n%s", diff)
	}
}
