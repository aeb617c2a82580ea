// The Gloo backend (CPU collectives).
//
// The torch wheel ships ProcessGroupGloo.hpp but not the gloo headers it includes; Debian's
// libgloo-dev provides them. Only the headers are used, never libgloo: torch contains gloo
// itself. That is sound because every gloo-typed member of ProcessGroupGloo (and of its Options)
// is held through a smart pointer, so the object layout we allocate here does not depend on
// which gloo version the headers come from.
#include "dist/backends.h"

#if MUDIT_HAVE_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif

#include <cstdlib>

namespace mudit::dist::detail {

#if MUDIT_HAVE_GLOO

bool gloo_available() {
  return true;
}

c10::intrusive_ptr<c10d::Backend> make_gloo_backend(const BackendRequest& request) {
  auto options = c10d::ProcessGroupGloo::Options::create(request.timeout);
  // As torch does: GLOO_SOCKET_IFNAME picks the interface; a loopback rendezvous stays on
  // loopback; otherwise the address this host's name resolves to.
  const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
  const std::string& addr = request.master_addr;
  if (ifname && *ifname) {
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
  } else if (addr == "localhost" || addr.rfind("127.", 0) == 0) {
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(addr));
  } else {
    options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  }
  options->timeout = request.timeout;
  return c10::make_intrusive<c10d::ProcessGroupGloo>(request.store, request.rank,
                                                     request.world_size, options);
}

#else

bool gloo_available() {
  return false;
}

c10::intrusive_ptr<c10d::Backend> make_gloo_backend(const BackendRequest&) {
  MUDIT_THROW(DistError, "built without Gloo headers: install libgloo-dev and rebuild mudit");
}

#endif

}  // namespace mudit::dist::detail
