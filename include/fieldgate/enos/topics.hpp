#pragma once
#include <string>
#include <string_view>

namespace fieldgate::enos {

/// The gateway's topics (all under its own product key and device key).
class Topics {
public:
    Topics(std::string_view product_key, std::string_view device_key);
    const std::string& post_batch() const { return post_batch_; }
    const std::string& resume_batch() const { return resume_batch_; }
    const std::string& login() const { return login_; }
    const std::string& login_batch() const { return login_batch_; }
    const std::string& logout() const { return logout_; }
    /// Downstream: the cloud disabled, enabled or deleted sub-devices. Each request must be
    /// answered with code 200 on its `_reply` topic.
    const std::string& disable() const { return disable_; }
    const std::string& enable() const { return enable_; }
    const std::string& remove() const { return delete_; }
    /// A request topic's reply topic.
    static std::string reply_of(std::string_view request_topic) { return std::string(request_topic) + "_reply"; }

private:
    std::string post_batch_;
    std::string resume_batch_;
    std::string login_;
    std::string login_batch_;
    std::string logout_;
    std::string disable_;
    std::string enable_;
    std::string delete_;
};

inline constexpr std::string_view kMethodPostBatch = "thing.measurepoint.post.batch";
inline constexpr std::string_view kMethodResumeBatch = "thing.measurepoint.resume.batch";

}  // namespace fieldgate::enos
