// JPEG input through libjpeg (libjpeg-turbo), decoded from bytes in memory like the other formats.
// libjpeg's default error handler calls exit(); ours longjmps back instead, and a C++ exception
// must never cross libjpeg's C frames. So the functions that call setjmp own no C++ object with a
// destructor and return a flag; the caller, whose objects are untouched by the jump, throws.
// Warnings that mean the pixels are guessed (truncated or corrupt entropy data, where libjpeg
// would fill in gray and carry on) are errors too, as in `djpeg -strict`.
#include "runtime/io/image.h"
#include "runtime/io/image_internal.h"

#include <algorithm>
#include <csetjmp>
#include <cstdio>    // jpeglib.h needs FILE and size_t declared first
#include <jconfig.h> // before jerror.h: which JWRN_* codes exist depends on it
#include <jerror.h>
#include <jpeglib.h>
#include <string>
#include <vector>

namespace podm::io {
namespace {

// In a Huffman-coded file every 8x8 block of a component costs at least one bit in that
// component's DC scan (no Huffman code is shorter), so a file of n bytes codes at most 8 n blocks
// of its largest component. Headers that claim more are refused before anything is allocated,
// libjpeg's own coefficient buffers included. Arithmetic coding has no such floor: those files are
// held to the global limits only.
constexpr int64_t kMaxBlocksPerByte = 8;
constexpr int64_t kBlockSlack = 1 << 14; // small files may always be up to 1 Mpixel

struct JpegErrorManager {
  jpeg_error_mgr mgr; // first: libjpeg hands back &mgr as cinfo->err
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void jpegErrorExit(j_common_ptr cinfo) {
  auto* e = reinterpret_cast<JpegErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, e->message);
  std::longjmp(e->jump, 1);
}

// Only the warnings that say the decoded pixels are not the file's: the others (an unknown JFIF
// revision, an odd Adobe marker, non-standard scan parameters) leave the image intact.
bool pixelsAreGuessed(int code) {
  switch (code) {
#if JPEG_LIB_VERSION >= 70 || defined(D_ARITH_CODING_SUPPORTED)
  case JWRN_ARITH_BAD_CODE:
#endif
  case JWRN_BOGUS_PROGRESSION:
  case JWRN_EXTRANEOUS_DATA:
  case JWRN_HIT_MARKER:
  case JWRN_HUFF_BAD_CODE:
  case JWRN_JPEG_EOF:
  case JWRN_MUST_RESYNC:
    return true;
  default:
    return false;
  }
}

void jpegEmitMessage(j_common_ptr cinfo, int level) {
  if (level < 0 && pixelsAreGuessed(cinfo->err->msg_code))
    jpegErrorExit(cinfo);
  // Trace messages and harmless warnings are dropped: the default prints them to stderr.
}

// Owned by decodeJpeg, which never calls setjmp, so its destructor runs on every way out (our
// errors, a failed allocation, the end).
struct JpegDecoder {
  jpeg_decompress_struct cinfo;
  JpegErrorManager error;
  bool created = false;
  ~JpegDecoder() {
    if (created)
      jpeg_destroy_decompress(&cinfo);
  }
};

// Each returns false after a libjpeg error, with error.message set. No C++ object lives in these
// frames, so the longjmp skips no destructor.
bool readHeader(JpegDecoder& d, const uint8_t* bytes, size_t size) {
  d.cinfo.err = jpeg_std_error(&d.error.mgr);
  d.error.mgr.error_exit = jpegErrorExit;
  d.error.mgr.emit_message = jpegEmitMessage;
  if (setjmp(d.error.jump))
    return false;
  jpeg_create_decompress(&d.cinfo);
  d.created = true;
  jpeg_mem_src(&d.cinfo, bytes, static_cast<unsigned long>(size));
  jpeg_read_header(&d.cinfo, TRUE);
  return true;
}

// Decodes every scanline into `row` (w * c bytes) and spreads it into the planar float image.
bool readPixels(JpegDecoder& d, uint8_t* row, float* out) {
  if (setjmp(d.error.jump))
    return false;
  jpeg_start_decompress(&d.cinfo);
  const int64_t w = d.cinfo.output_width, h = d.cinfo.output_height;
  const int64_t c = d.cinfo.output_components;
  JSAMPROW rows[1] = {row};
  while (d.cinfo.output_scanline < d.cinfo.output_height) {
    const int64_t y = d.cinfo.output_scanline;
    if (jpeg_read_scanlines(&d.cinfo, rows, 1) != 1) {
      // Only a suspending data source returns no line, and memory never suspends; still, never
      // loop on it.
      std::snprintf(d.error.message, sizeof d.error.message, "the decoder returned no scanline");
      return false;
    }
    for (int64_t x = 0; x < w; ++x)
      for (int64_t ch = 0; ch < c; ++ch)
        out[(ch * h + y) * w + x] = row[x * c + ch] / 255.0f;
  }
  jpeg_finish_decompress(&d.cinfo);
  return true;
}

} // namespace

Tensor decodeJpeg(const uint8_t* bytes, size_t size, const std::string& name, ImageInfo* info) {
  JpegDecoder d{};
  if (!readHeader(d, bytes, size))
    throw IoError(name + ": cannot decode JPEG: " + d.error.message);
  const int stored = d.cinfo.num_components;
  const J_COLOR_SPACE space = d.cinfo.jpeg_color_space;
  if (space == JCS_GRAYSCALE) {
    d.cinfo.out_color_space = JCS_GRAYSCALE;
  } else if (space == JCS_YCbCr || space == JCS_RGB) {
    d.cinfo.out_color_space = JCS_RGB;
  } else {
    throw IoError(name + ": " +
                  (space == JCS_CMYK || space == JCS_YCCK
                       ? std::string("CMYK JPEG is not supported (convert it to RGB or gray)")
                       : "JPEG with " + std::to_string(stored) +
                             " components in an unknown colour space is not supported (gray and "
                             "RGB are)"));
  }
  const int64_t c = space == JCS_GRAYSCALE ? 1 : 3;
  const int64_t h = d.cinfo.image_height, w = d.cinfo.image_width;
  detail::checkDimensions(name, h, w, c);
  int64_t blocks = 0; // of the largest component
  for (int i = 0; i < d.cinfo.num_components; ++i)
    blocks = std::max(blocks, int64_t{d.cinfo.comp_info[i].width_in_blocks} *
                                  int64_t{d.cinfo.comp_info[i].height_in_blocks});
  if (!d.cinfo.arith_code && blocks > kMaxBlocksPerByte * static_cast<int64_t>(size) + kBlockSlack)
    throw IoError(name + ": JPEG header claims " + std::to_string(h) + "x" + std::to_string(w) +
                  " pixels, impossible for a file of " + std::to_string(size) + " bytes");
  Tensor result(Shape{1, c, h, w});
  std::vector<uint8_t> row(static_cast<size_t>(w * c));
  if (!readPixels(d, row.data(), result.data()))
    throw IoError(name + ": cannot decode JPEG: " + d.error.message);
  info->format = FileFormat::Jpeg;
  info->bitDepth = 8;
  info->storedChannels = stored;
  info->progressive = d.cinfo.progressive_mode;
  return result;
}

} // namespace podm::io
