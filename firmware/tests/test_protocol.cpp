// Host unit tests of the shared line protocol (firmware/common/protocol.*).
// Build and run: make -C firmware test
#include <stdio.h>
#include <string.h>

#include <string>
#include <vector>

#include "protocol.h"

namespace {

int failures = 0;
int checks = 0;

#define CHECK(condition)                                                  \
  do {                                                                    \
    ++checks;                                                             \
    if (!(condition)) {                                                   \
      ++failures;                                                         \
      fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #condition); \
    }                                                                     \
  } while (0)

#define CHECK_EQ(actual, expected)                                        \
  do {                                                                    \
    ++checks;                                                             \
    std::string a_ = (actual), e_ = (expected);                           \
    if (a_ != e_) {                                                       \
      ++failures;                                                         \
      fprintf(stderr, "%s:%d: got \"%s\", expected \"%s\"\n", __FILE__, __LINE__, \
              a_.c_str(), e_.c_str());                                    \
    }                                                                     \
  } while (0)

// A fake device: records replies and the commands its handlers saw.
struct Device {
  std::vector<std::string> replies;
  std::vector<std::string> calls;
};

void write_line(const char* line, void* context) {
  static_cast<Device*>(context)->replies.push_back(line);
}

std::string joined(const protocol::Words& words) {
  std::string text;
  for (uint8_t i = 0; i < words.count; ++i) {
    if (i > 0) text += "|";
    text += words.word[i];
  }
  return text;
}

void gong(const protocol::Words& words, protocol::Reply& reply, void* context) {
  static_cast<Device*>(context)->calls.push_back(joined(words));
  if (words.count != 1) {
    reply.err("bad arguments");
    return;
  }
  reply.ok("gong");
}

void quiet(const protocol::Words& words, protocol::Reply&, void* context) {
  // Sets no reply: the parser must still answer "ok".
  static_cast<Device*>(context)->calls.push_back(joined(words));
}

void location(const protocol::Words& words, protocol::Reply& reply, void* context) {
  static_cast<Device*>(context)->calls.push_back(joined(words));
  reply.ok(words.word[0]);
  if (words.count > 1) reply.add(words.word[1]);
}

const protocol::Command kCommands[] = {
    {"gong", gong},
    {"quiet", quiet},
};

struct Fixture {
  Device device;
  protocol::Parser parser;
  explicit Fixture(protocol::Handler fallback = 0)
      : parser("test", kCommands, 2, fallback, write_line, &device) {}

  void send(const std::string& bytes) {
    for (size_t i = 0; i < bytes.size(); ++i) parser.feed(bytes[i]);
  }
  std::string last() const {
    return device.replies.empty() ? std::string("<none>") : device.replies.back();
  }
};

void test_ping() {
  Fixture f;
  f.send("ping\n");
  CHECK_EQ(f.last(), "pong test 1.0");
  f.send("ping extra\n");
  CHECK_EQ(f.last(), "err bad arguments");
  CHECK(f.device.replies.size() == 2);
}

void test_dispatch_and_reply() {
  Fixture f;
  f.send("gong\n");
  CHECK_EQ(f.last(), "ok gong");
  CHECK(f.device.calls.size() == 1);
  f.send("gong now\n");
  CHECK_EQ(f.last(), "err bad arguments");
  f.send("quiet a b\n");
  CHECK_EQ(f.last(), "ok");
  CHECK_EQ(f.device.calls.back(), "quiet|a|b");
}

void test_unknown_command_without_fallback() {
  Fixture f;
  f.send("bell\n");
  CHECK_EQ(f.last(), "err unknown command");
  f.send("sydney down\n");
  CHECK_EQ(f.last(), "err unknown command");
  CHECK(f.device.calls.empty());
}

void test_fallback_gets_other_lines() {
  Fixture f(location);
  f.send("sydney down\n");
  CHECK_EQ(f.last(), "ok sydney down");
  f.send("gong\n");
  CHECK_EQ(f.last(), "ok gong");
  CHECK_EQ(f.device.calls.front(), "sydney|down");
}

void test_carriage_returns_and_case() {
  Fixture f(location);
  f.send("GONG\r\n");
  CHECK_EQ(f.last(), "ok gong");
  f.send("  Sydney\t DOWN \r\n");
  CHECK_EQ(f.last(), "ok sydney down");
  f.send("pi\rng\n");
  CHECK_EQ(f.last(), "pong test 1.0");
}

void test_blank_lines_get_no_reply() {
  Fixture f;
  f.send("\n\r\n   \n\t\n");
  CHECK(f.device.replies.empty());
  f.send("gong\n\n");
  CHECK(f.device.replies.size() == 1);
}

void test_bytes_split_across_feeds() {
  Fixture f;
  f.send("go");
  CHECK(f.device.replies.empty());
  f.send("ng");
  CHECK(f.device.replies.empty());
  f.send("\n");
  CHECK_EQ(f.last(), "ok gong");
}

void test_one_reply_per_line_in_a_burst() {
  Fixture f(location);
  f.send("gong\nping\nbell ring\nsydney up\n");
  CHECK(f.device.replies.size() == 4);
  CHECK_EQ(f.device.replies[0], "ok gong");
  CHECK_EQ(f.device.replies[1], "pong test 1.0");
  CHECK_EQ(f.device.replies[2], "ok bell ring");
  CHECK_EQ(f.device.replies[3], "ok sydney up");
}

void test_longest_line_is_accepted() {
  Fixture f(location);
  std::string word(protocol::kMaxLine - 5, 'x');
  f.send(word + " down\n");  // exactly kMaxLine characters
  CHECK_EQ(f.last(), "ok " + word + " down");
}

void test_too_long_line_is_answered_once_and_dropped() {
  Fixture f;
  std::string line(protocol::kMaxLine + 1, 'g');
  f.send(line + "\n");
  CHECK(f.device.replies.size() == 1);
  CHECK_EQ(f.last(), "err too long");
  // Far too long: still one answer, at the newline, and nothing leaks through.
  std::string flood(500, 'a');
  flood.replace(100, 6, " gong ");
  f.send(flood);
  CHECK(f.device.replies.size() == 1);
  f.send("\n");
  CHECK(f.device.replies.size() == 2);
  CHECK_EQ(f.last(), "err too long");
  CHECK(f.device.calls.empty());
  // The parser is clean again afterwards.
  f.send("gong\n");
  CHECK_EQ(f.last(), "ok gong");
}

void test_too_many_words() {
  Fixture f(location);
  f.send("a b c d e\n");
  CHECK_EQ(f.last(), "err bad arguments");
  CHECK(f.device.calls.empty());
  f.send("a b c d\n");
  CHECK_EQ(f.last(), "ok a b");
}

void test_split_words() {
  char line[] = " One\ttwo  THREE ";
  protocol::Words words;
  CHECK(protocol::split_words(line, words) == 3);
  CHECK_EQ(words.word[0], "one");
  CHECK_EQ(words.word[1], "two");
  CHECK_EQ(words.word[2], "three");
  char empty[] = "   ";
  CHECK(protocol::split_words(empty, words) == 0);
  char many[] = "a b c d e f";
  CHECK(protocol::split_words(many, words) == protocol::kMaxWords + 1);
}

void test_reply_is_bounded() {
  protocol::Reply reply;
  CHECK(!reply.is_set());
  reply.ok();
  CHECK_EQ(reply.text(), "ok");
  std::string big(200, 'z');
  reply.add(big.c_str());
  CHECK(strlen(reply.text()) == protocol::kMaxReply);
  reply.err("cooldown");
  CHECK_EQ(reply.text(), "err cooldown");
}

void test_same() {
  CHECK(protocol::same("up", "up"));
  CHECK(!protocol::same("up", "upper"));
  CHECK(!protocol::same("upper", "up"));
  CHECK(protocol::same("", ""));
}

void test_add_number() {
  protocol::Reply reply;
  reply.ok();
  reply.add_number(0);
  reply.add_number(16);
  reply.add_number(255);
  CHECK_EQ(reply.text(), "ok 0 16 255");
}

void test_parse_index() {
  uint8_t value = 99;
  CHECK(protocol::parse_index("0", 16, value) && value == 0);
  CHECK(protocol::parse_index("15", 16, value) && value == 15);
  CHECK(!protocol::parse_index("16", 16, value));
  CHECK(!protocol::parse_index("", 16, value));
  CHECK(!protocol::parse_index("07", 16, value));
  CHECK(!protocol::parse_index("-1", 16, value));
  CHECK(!protocol::parse_index("1x", 16, value));
  CHECK(!protocol::parse_index("99999", 255, value));
  CHECK(value == 15);  // untouched by a failed parse
}

}  // namespace

int main() {
  test_ping();
  test_dispatch_and_reply();
  test_unknown_command_without_fallback();
  test_fallback_gets_other_lines();
  test_carriage_returns_and_case();
  test_blank_lines_get_no_reply();
  test_bytes_split_across_feeds();
  test_one_reply_per_line_in_a_burst();
  test_longest_line_is_accepted();
  test_too_long_line_is_answered_once_and_dropped();
  test_too_many_words();
  test_split_words();
  test_reply_is_bounded();
  test_same();
  test_add_number();
  test_parse_index();
  if (failures > 0) {
    fprintf(stderr, "protocol tests: %d of %d checks failed\n", failures, checks);
    return 1;
  }
  printf("protocol tests: all %d checks passed\n", checks);
  return 0;
}
