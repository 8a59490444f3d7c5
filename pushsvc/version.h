#pragma once
// pushsvc's version: the CMake project version (the release number, also the Debian package
// version and the pushsvc_build_info label) and `git describe` of the source tree it was
// built from ("" outside a git checkout). Defined in a source generated at build time
// (cmake/git_version.cmake), so the commit is the one actually built.

namespace pushsvc {

extern const char* const kVersion;      // "0.1.0"
extern const char* const kGitDescribe;  // "919cdbb-dirty", or ""

}  // namespace pushsvc
