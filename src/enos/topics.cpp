#include "fieldgate/enos/topics.hpp"

namespace fieldgate::enos {

Topics::Topics(std::string_view product_key, std::string_view device_key) {
    const std::string sys = "/sys/" + std::string(product_key) + "/" + std::string(device_key);
    const std::string session = "/ext/session/" + std::string(product_key) + "/" + std::string(device_key);
    post_batch_ = sys + "/thing/measurepoint/post/batch";
    resume_batch_ = sys + "/thing/measurepoint/resume/batch";
    login_ = session + "/combine/login";
    login_batch_ = session + "/combine/login/batch";
    logout_ = session + "/combine/logout";
    disable_ = session + "/combine/disable";
    enable_ = session + "/combine/enable";
    delete_ = session + "/combine/delete";
}

}  // namespace fieldgate::enos
