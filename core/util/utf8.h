#pragma once
// Names read from files (ONNX node and tensor names, op types) are bytes; JSON output, Qt labels and error
// messages need UTF-8. These say whether bytes are UTF-8 and show the ones that are not.
#include <string>
#include <string_view>

namespace edgetune {

/// True when `text` is well-formed UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF).
bool isValidUtf8(std::string_view text);

/// `text` with every byte that is not part of a well-formed UTF-8 character written as "\xNN", so a
/// message can quote a name that is not UTF-8.
std::string escapeInvalidUtf8(std::string_view text);

}  // namespace edgetune
