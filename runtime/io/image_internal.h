// Helpers shared by the decoders in image.cpp and png_tiff.cpp; not part of the public API.
#pragma once

#include <cstdint>
#include <string>

namespace podm::io::detail {

// Throws IoError unless h x w x c is positive and within kMaxSide / kMaxValues.
void checkDimensions(const std::string& name, int64_t h, int64_t w, int64_t c);

} // namespace podm::io::detail
