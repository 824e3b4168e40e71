// RGB <-> YCbCr as the PODM paper (and the super-resolution literature) handles colour: restore the
// luma Y only, then recombine with the original chroma. The transform is ITU-R BT.601 in MATLAB's
// rgb2ycbcr convention for double images in [0,1] ("studio swing"):
//   Y  =  16/255 + ( 65.481 R + 128.553 G +  24.966 B) / 255      (Y  in [16/255, 235/255])
//   Cb = 128/255 + (-37.797 R -  74.203 G + 112.000 B) / 255      (Cb in [16/255, 240/255])
//   Cr = 128/255 + (112.000 R -  93.786 G -  18.214 B) / 255
// and ycbcr2rgb is its exact inverse. PSNR/SSIM on colour images are computed on this Y.
#pragma once

#include "runtime/tensor.h"

namespace podm::io {

// 1x3xHxW RGB -> 1x3xHxW YCbCr (planes Y, Cb, Cr) and back; other shapes throw
// std::invalid_argument.
Tensor rgbToYCbCr(const Tensor& rgb);
Tensor yCbCrToRgb(const Tensor& ycbcr);

// An image split for restoration: `y` is what the model processes (the image itself when gray).
struct LumaSplit {
  Tensor y;      // 1x1xHxW
  Tensor cb, cr; // 1x1xHxW, empty for gray input
  bool color() const { return !cb.empty(); }
};
LumaSplit splitLuma(const Tensor& image);

// Recombines a processed Y with the chroma of `split`. When Y has another size than the chroma
// (super-resolution), the chroma is resized to Y's size by bicubic interpolation (MATLAB imresize
// conventions), as SR papers do. Gray splits return y itself. The RGB result is clamped to [0,1].
Tensor mergeLuma(const Tensor& y, const LumaSplit& split);

// The luma of any image: the image itself if gray, the Y plane of rgbToYCbCr if RGB.
Tensor luma(const Tensor& image);

} // namespace podm::io
