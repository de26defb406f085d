// The dashboard page served at GET / on the admin address (SPEC §5): one self-contained HTML
// document (its CSS and JS inlined, no external resources) that polls the admin API. Built from
// index.html, style.css and app.js in this folder by embed.cmake.
#pragma once
#include <string_view>

namespace ebb::lb::admin {

// The page's bytes (UTF-8 HTML), static storage. Thread-safe.
std::string_view dashboard_page();

}  // namespace ebb::lb::admin
