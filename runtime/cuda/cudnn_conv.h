// The cuDNN side of one convolution step of a network plan (network_plan.h): its descriptors, the
// algorithms chosen for it and their workspace, shared by the inference node
// (network_kernels.cpp) and the trainer (network_training.cpp). Algorithms are the fastest cuDNN
// measures without tensor-core math (TF32 would move results away from the CPU's oneDNN ones) and
// within a workspace cap; the backward ones also deterministic, so a training step gives the same
// gradients every time on one GPU.
#pragma once

#include "runtime/cuda/cuda_check.h"
#include "runtime/cuda/network_plan.h"

#include <cstddef>
#include <cuda_runtime.h>
#include <cudnn.h>

namespace podm::cuda {

// Throws std::runtime_error naming the call when a cuDNN status is not success.
void checkCudnn(cudnnStatus_t status, const char* what);

// The cuDNN objects of one convolution step, made on the first launch (builders also run where no
// GPU is visible).
struct ConvObjects {
  cudnnTensorDescriptor_t src = nullptr, dst = nullptr, bias = nullptr;
  cudnnFilterDescriptor_t filter = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  cudnnConvolutionFwdAlgo_t algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
  size_t workspaceBytes = 0; // of the forward algorithm
  // Set by configureConvBackward.
  cudnnConvolutionBwdDataAlgo_t dataAlgo = CUDNN_CONVOLUTION_BWD_DATA_ALGO_1;
  cudnnConvolutionBwdFilterAlgo_t filterAlgo = CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1;
  size_t backwardWorkspaceBytes = 0; // the larger of the two backward algorithms'

  void destroy();
};

void setTensor(cudnnTensorDescriptor_t d, const NetDims& s);

// Creates (where missing) and sets the descriptors of conv step `s`, checks that cuDNN's output
// shape is the plan's, and picks its forward algorithm and workspace.
void configureConv(cudnnHandle_t handle, const NetStep& s, ConvObjects& c);
// Picks the backward-data and backward-filter algorithms of a configured step.
void configureConvBackward(cudnnHandle_t handle, ConvObjects& c);

} // namespace podm::cuda
