package imagecheck

// Rule is the documentation of one hygiene check.
type Rule struct {
	// ID is dockle's code where dockle has the check, TG2xx for tollgate's.
	ID string
	// Severity is the default severity (LOW … CRITICAL, as Trivy).
	Severity string
	// Title says what the check looks for.
	Title string
	// Description says why it matters.
	Description string
	// Resolution says how to fix a finding.
	Resolution string
	// Looks names what the check reads: config, history, layers or the
	// final filesystem.
	Looks string
	// Dockle says how tollgate's check differs from dockle's, "" for
	// tollgate's own checks.
	Dockle string
}

// Check IDs.
const (
	IDRootUser        = "CIS-DI-0001"
	IDHealthcheck     = "CIS-DI-0006"
	IDUpdateAlone     = "CIS-DI-0007"
	IDSetuid          = "CIS-DI-0008"
	IDAdd             = "CIS-DI-0009"
	IDCredentials     = "CIS-DI-0010"
	IDSudo            = "DKL-DI-0001"
	IDSensitiveVolume = "DKL-DI-0002"
	IDDistUpgrade     = "DKL-DI-0003"
	IDApkCache        = "DKL-DI-0004"
	IDAptCache        = "DKL-DI-0005"
	IDEmptyPassword   = "DKL-LI-0001"
	IDDuplicateID     = "DKL-LI-0002"
	IDUnneededFiles   = "DKL-LI-0003"
	IDCacheInImage    = "TG201"
	IDDebugTools      = "TG202"
	IDWaste           = "TG203"
	IDFullBase        = "TG204"
	IDWorldWritable   = "TG205"
)

// Rules returns the documentation of every check, in report order.
func Rules() []Rule {
	return []Rule{
		{ID: IDRootUser, Severity: "MEDIUM", Looks: "config (User), final /etc/passwd",
			Title:       "The image runs as root",
			Description: "Without an unprivileged user the container's process runs as UID 0; a container escape starts with root privileges, and Kubernetes' runAsNonRoot refuses the image.",
			Resolution:  "Create an unprivileged user and end the final stage with USER <uid> (a numeric UID, so runAsNonRoot can verify it).",
			Dockle:      "dockle only flags an empty User or \"root\"; USER 0, 0:0, root:root and a name that /etc/passwd maps to UID 0 pass there. tollgate flags all of them."},
		{ID: IDHealthcheck, Severity: "LOW", Looks: "config (Healthcheck)",
			Title:       "No HEALTHCHECK",
			Description: "Docker and Swarm use HEALTHCHECK to restart a wedged container. Kubernetes ignores it (probes do that job), so this matters for images also run outside a cluster.",
			Resolution:  "Add HEALTHCHECK CMD <probe> to the Dockerfile (build with --format docker under buildah: the OCI format drops it), or rely on Kubernetes liveness and readiness probes.",
			Dockle:      "dockle accepts HEALTHCHECK NONE (Test [\"NONE\"]), which switches health checking off; tollgate reports it as no health check."},
		{ID: IDUpdateAlone, Severity: "HIGH", Looks: "history (RUN)",
			Title:       "apt-get update without an install in the same RUN",
			Description: "A layer that only refreshes package lists is cached on its own; later installs then use stale lists, and the lists' bytes stay in the image.",
			Resolution:  "Run apt-get update && apt-get install -y --no-install-recommends … && rm -rf /var/lib/apt/lists/* in one RUN.",
			Dockle:      "dockle matches words anywhere in the line, so RUN echo apt-get update fires, and it does not count dist-upgrade as an upgrade, so apt-get update && apt-get dist-upgrade fires too; tollgate parses the RUN as shell and looks at the commands."},
		{ID: IDSetuid, Severity: "LOW", Looks: "final filesystem",
			Title:       "setuid or setgid file",
			Description: "A setuid/setgid program runs with its owner's privileges; in a container each one is a way for a compromised process to gain root.",
			Resolution:  "Remove the bits where the program is not needed: RUN find / -xdev -perm /6000 -type f -exec chmod a-s {} + (and run with allowPrivilegeEscalation: false).",
			Dockle:      "Same files; tollgate names the layer that added each one."},
		{ID: IDAdd, Severity: "HIGH", Looks: "history (ADD)",
			Title:       "ADD of a remote URL or of an archive it extracts",
			Description: "ADD fetches URLs without checksum verification and silently unpacks local tar archives; COPY does neither, so its result is what the Dockerfile says.",
			Resolution:  "Use COPY for local files; download with ADD --checksum=sha256:… (or curl and a checksum check in a RUN), and unpack archives explicitly.",
			Dockle:      "dockle flags every ADD except the one with the smallest history index (taken to be the base image's root filesystem), so a FROM scratch image whose only ADD fetches a URL passes. tollgate flags only ADDs whose source is a URL or a tar archive (an ADD of a plain file does what COPY does), skips only a local archive ADDed to / that made the first layer (the base image's root filesystem), and accepts a URL with --checksum. Classic builders record local sources as file:<hash>, so those ADDs cannot be judged and are not flagged."},
		{ID: IDCredentials, Severity: "HIGH", Looks: "config (Env, Labels, Cmd, Entrypoint, history), every layer's files",
			Title:       "Credential in the environment, history or files",
			Description: "Anything in an image is readable by everyone who can pull it: docker inspect shows ENV and labels, docker history shows build arguments, and every layer keeps the files it added even when a later layer deletes them.",
			Resolution:  "Revoke the credential, then pass secrets at run time (Kubernetes secrets) or at build time with RUN --mount=type=secret; deleting a file in a later layer does not remove it from the image.",
			Dockle:      "dockle judges by names: variables whose name contains KEY, ACCESS, PASS, SECRET or TOKEN (so ACCESS_LOG=/var/log/app/access.log fires; only GPG_KEY(S) is exempt) and files named id_rsa, .env, credentials… whatever they hold; it reads only the history, not the config's Env, and never a file's content. tollgate runs its secret rules over the values and the content of every layer's files, so a token in an innocently named file is found, an .env without one is not, and a key deleted in a later layer is reported with both layers."},
		{ID: IDSudo, Severity: "HIGH", Looks: "history (RUN)",
			Title:       "sudo in a RUN",
			Description: "Builds already run as root unless USER says otherwise; sudo in an image means the sudo binary and its configuration ship too, a ready-made privilege escalation.",
			Resolution:  "Drop sudo: put root steps before USER, or switch with USER root and back.",
			Dockle:      "dockle matches the word sudo anywhere in an &&-segment (echo sudo fires); tollgate looks for a sudo command."},
		{ID: IDSensitiveVolume, Severity: "HIGH", Looks: "config (Volumes)",
			Title:       "Volume over a host system directory",
			Description: "A VOLUME at /proc, /sys or /dev invites mounting the host's, which gives the container the host's kernel interfaces.",
			Resolution:  "Remove the VOLUME instruction.",
			Dockle:      "dockle compares the exact strings; tollgate also catches sub-paths (/proc/sys) and unclean spellings (/dev/)."},
		{ID: IDDistUpgrade, Severity: "MEDIUM", Looks: "history (RUN)",
			Title:       "apt-get dist-upgrade",
			Description: "dist-upgrade may install, remove and replace packages the base image maintainer chose; the result is not reproducible.",
			Resolution:  "Use a newer base image, or apt-get upgrade the packages you need.",
			Dockle:      "Also full-upgrade (its newer name); commands parsed as shell."},
		{ID: IDApkCache, Severity: "HIGH", Looks: "every layer's files",
			Title:       "apk cache written into a layer",
			Description: "apk without --no-cache leaves the package index (and cached packages) under /var/cache/apk in the layer.",
			Resolution:  "Use apk add --no-cache, or RUN --mount=type=cache,target=/var/cache/apk.",
			Dockle:      "dockle guesses from history (apk add without --no-cache): it fires for a layer that wrote no cache, and misses caches made by scripts or by builders that do not record RUN lines; tollgate measures the bytes each layer adds under /var/cache/apk."},
		{ID: IDAptCache, Severity: "HIGH", Looks: "every layer's files",
			Title:       "apt caches written into a layer",
			Description: "apt-get update writes package lists (tens of MB) under /var/lib/apt/lists and install keeps .deb files under /var/cache/apt; unless removed in the same RUN they stay in that layer for good.",
			Resolution:  "End the RUN that installs with rm -rf /var/lib/apt/lists/* (and apt-get clean), or use a cache mount.",
			Dockle:      "dockle guesses from the history text (an apt-get update or install without rm -rf /var/lib/apt/lists later in the same line), so RUN echo apt-get update fires and a RUN that calls apt-get from a script passes; tollgate measures the bytes each layer adds there, and reports the layer even when a later one deletes them."},
		{ID: IDEmptyPassword, Severity: "HIGH", Looks: "final /etc/shadow, /etc/master.passwd",
			Title:       "Account with an empty password",
			Description: "An empty password field lets anyone log in to the account without a password (su, login, sshd with PermitEmptyPasswords).",
			Resolution:  "Lock the account (passwd -l NAME, or * in the password field).",
			Dockle:      "Malformed lines are skipped instead of crashing the scan."},
		{ID: IDDuplicateID, Severity: "HIGH", Looks: "final /etc/passwd, /etc/group",
			Title:       "Duplicate UID or GID",
			Description: "Two accounts with one UID are one account to the kernel: files, processes and permissions of either belong to both.",
			Resolution:  "Give each account its own UID and each group its own GID.",
			Dockle:      "dockle panics (index out of range, exit 2, no report at all) on a passwd line with fewer than three fields; tollgate skips malformed and comment lines and names the file's layer."},
		{ID: IDUnneededFiles, Severity: "LOW", Looks: "final filesystem",
			Title:       "File or directory an image does not need",
			Description: "Build files (Dockerfile, docker-compose.yml), editor settings and tool directories (.git, .aws, .cache, .vscode …) leak source, history and sometimes credentials, and cost bytes.",
			Resolution:  "Add them to .dockerignore, or copy only what the application needs (multi-stage builds).",
			Dockle:      "Same names; a directory is reported once, with its size. dockle did not report /root/.cache in the test image whose layer tar lists files below it without a directory entry of its own; tollgate does."},
		{ID: IDCacheInImage, Severity: "MEDIUM", Looks: "final filesystem",
			Title:       "Package-manager cache present in the image",
			Description: "Package lists and downloaded packages (apt, yum, dnf, zypper, apk, pip, npm, yarn, Go build cache) are not needed at run time; they make every pull and every node's disk pay for them.",
			Resolution:  "Clean up in the same RUN (rm -rf /var/lib/apt/lists/*, dnf clean all, apk add --no-cache, pip install --no-cache-dir, npm cache clean --force) or use cache mounts.",
		},
		{ID: IDDebugTools, Severity: "MEDIUM", Looks: "final package databases (dpkg, apk, rpm)",
			Title:       "Debugging or network tool installed",
			Description: "Editors, debuggers, sniffers, netcat-style tools and sudo are not needed to run an application and are exactly what an intruder wants (the list dockerfile lint's TG103 uses).",
			Resolution:  "Do not install them in the final stage; remove them (apt-get purge, apk del, dnf remove) in the RUN that needs them, and debug with an ephemeral debug container.",
		},
		{ID: IDWaste, Severity: "LOW", Looks: "every layer's files",
			Title:       "Files deleted or replaced by a later layer still cost bytes",
			Description: "A layer is immutable: deleting or overwriting a file in a later layer hides it but every pull still downloads it (and any secret in it).",
			Resolution:  "Create and remove temporary files in the same RUN, or build in a stage and COPY only the result.",
		},
		{ID: IDFullBase, Severity: "LOW", Looks: "final os-release, package databases, package-manager binaries and documentation",
			Title:       "Built on a full distribution",
			Description: "A full distribution brings a shell, a package manager, documentation and hundreds of packages the application never uses: more to download, patch and triage.",
			Resolution:  "Copy the application into a minimal base: a -slim or -alpine variant, distroless, a UBI minimal/micro image, or scratch for static binaries.",
		},
		{ID: IDWorldWritable, Severity: "MEDIUM", Looks: "final filesystem",
			Title:       "World-writable file or directory outside /tmp",
			Description: "Any process in the container, whatever its user, can change a world-writable file: a way to plant code or configuration for a more privileged process.",
			Resolution:  "chmod o-w the path (directories that must be shared need the sticky bit, as /tmp has).",
		},
	}
}
