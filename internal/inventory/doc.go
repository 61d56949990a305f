// Package inventory finds what an image, root filesystem, source tree or
// git repository contains: the OS release, distro packages (dpkg, apk,
// rpm), Go binaries and language packages from lock files and installed
// metadata (npm, yarn, pnpm, PyPI, Maven jars, Cargo, Composer, RubyGems).
//
// Collect opens a Target (ParseTarget reads the CLI's scheme:path
// syntax), walks each image layer once through internal/image, hands the
// files an analyzer asks for to it, and merges the layers bottom-up,
// honouring whiteouts. What a layer holds is cached per layer digest in a
// cache directory, so a second scan reads only new layers. The result is an
// Inventory with purls, ready for internal/sbom or a vulnerability matcher.
package inventory
