#include "darkroom/models/weights.hpp"

#include <cstring>
#include <sstream>

#include "darkroom/io/safetensors_writer.hpp"

namespace darkroom::models {
namespace {

torch::ScalarType scalar_type(io::DType dtype) {
  switch (dtype) {
    case io::DType::F64: return torch::kFloat64;
    case io::DType::F32: return torch::kFloat32;
    case io::DType::F16: return torch::kFloat16;
    case io::DType::BF16: return torch::kBFloat16;
    case io::DType::I64: return torch::kInt64;
    case io::DType::I32: return torch::kInt32;
    case io::DType::I16: return torch::kInt16;
    case io::DType::I8: return torch::kInt8;
    case io::DType::U8: return torch::kUInt8;
    case io::DType::BOOL: return torch::kBool;
  }
  throw std::logic_error("unhandled dtype");
}

std::vector<int64_t> squeeze_trailing_ones(std::vector<int64_t> shape) {
  while (shape.size() > 1 && shape.back() == 1) shape.pop_back();
  return shape;
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::ostringstream s;
  s << "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s << (i ? "," : "") << shape[i];
  s << "]";
  return s.str();
}

}  // namespace

torch::Tensor load_tensor(const io::TensorRef& ref, torch::ScalarType dtype) {
  const auto bytes = ref.file->bytes(*ref.info);
  // from_blob over the read-only mapping; the .to()/.clone() below makes an owned copy.
  auto raw = torch::from_blob(const_cast<std::byte*>(bytes.data()), ref.info->shape,
                              torch::TensorOptions().dtype(scalar_type(ref.info->dtype)));
  if (ref.rows_end >= 0) raw = raw.slice(0, ref.rows_begin, ref.rows_end);
  if (ref.transpose) raw = raw.t();
  auto out = raw.to(dtype, /*non_blocking=*/false, /*copy=*/true);
  return out.contiguous();
}

void load_module(torch::nn::Module& module, const io::WeightIndex& weights, std::string_view component) {
  torch::NoGradGuard no_grad;
  std::vector<std::string> problems;
  auto fill = [&](const std::string& name, torch::Tensor& target) {
    const auto* ref = weights.find(name);
    if (!ref) {
      problems.push_back("missing '" + name + "'");
      return;
    }
    const auto have = ref->shape();
    const auto want = target.sizes().vec();
    if (have != want && squeeze_trailing_ones(have) != squeeze_trailing_ones(want)) {
      problems.push_back("'" + name + "' has shape " + shape_string(have) + ", expected " + shape_string(want));
      return;
    }
    target.copy_(load_tensor(*ref, target.scalar_type()).reshape(want));
    ref->file->release_pages(*ref->info);  // the module holds its own copy now
  };
  for (auto& item : module.named_parameters(/*recurse=*/true)) fill(item.key(), item.value());
  for (auto& item : module.named_buffers(/*recurse=*/true)) fill(item.key(), item.value());
  if (problems.empty()) return;

  std::string message = std::string(component) + " weights do not fit the model: ";
  constexpr std::size_t kShown = 8;
  for (std::size_t i = 0; i < problems.size() && i < kShown; ++i) message += (i ? "; " : "") + problems[i];
  if (problems.size() > kShown) message += "; and " + std::to_string(problems.size() - kShown) + " more";
  throw io::ModelFileError(weights.primary_file(), message);
}

NamedTensors named_tensors(const torch::nn::Module& module) {
  NamedTensors tensors;
  for (const auto& item : module.named_parameters(/*recurse=*/true)) tensors.emplace_back(item.key(), item.value());
  for (const auto& item : module.named_buffers(/*recurse=*/true)) tensors.emplace_back(item.key(), item.value());
  return tensors;
}

void save_tensors(const std::filesystem::path& path, const NamedTensors& named, torch::ScalarType dtype,
                  const std::map<std::string, std::string>& metadata) {
  io::DType file_dtype;
  switch (dtype) {
    case torch::kFloat32: file_dtype = io::DType::F32; break;
    case torch::kFloat16: file_dtype = io::DType::F16; break;
    case torch::kBFloat16: file_dtype = io::DType::BF16; break;
    default: throw std::invalid_argument("save_tensors: dtype must be float32, float16 or bfloat16");
  }
  std::vector<torch::Tensor> keep;  // owns the converted data until the file is written
  std::vector<io::TensorToWrite> tensors;
  for (const auto& [name, value] : named) {
    auto t = value.detach().to(torch::kCPU, dtype).contiguous();
    keep.push_back(t);
    tensors.push_back({name, file_dtype, t.sizes().vec(),
                       {reinterpret_cast<const std::byte*>(t.data_ptr()), static_cast<std::size_t>(t.nbytes())}});
  }
  io::write_safetensors(path, tensors, metadata);
}

void save_module(const torch::nn::Module& module, const std::filesystem::path& path, torch::ScalarType dtype,
                 const std::map<std::string, std::string>& metadata) {
  save_tensors(path, named_tensors(module), dtype, metadata);
}

}  // namespace darkroom::models
