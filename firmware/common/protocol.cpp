// The shared line protocol: line assembly, word splitting, dispatch, replies.
#include "protocol.h"

namespace protocol {

const char kVersion[] = "1.0";

Reply::Reply() : length_(0) { text_[0] = '\0'; }

void Reply::ok(const char* text) {
  start("ok");
  if (text != 0) add(text);
}

void Reply::err(const char* reason) {
  start("err");
  add(reason);
}

void Reply::start(const char* word) {
  length_ = 0;
  text_[0] = '\0';
  append(word);
}

void Reply::add(const char* text) {
  if (length_ > 0) append(" ");
  append(text);
}

void Reply::add_number(uint8_t number) {
  char digits[4];
  uint8_t n = 0;
  do {
    digits[n++] = static_cast<char>('0' + number % 10);
    number = static_cast<uint8_t>(number / 10);
  } while (number > 0);
  char text[4];
  for (uint8_t i = 0; i < n; ++i) text[i] = digits[n - 1 - i];
  text[n] = '\0';
  add(text);
}

void Reply::append(const char* text) {
  while (*text != '\0' && length_ < kMaxReply) text_[length_++] = *text++;
  text_[length_] = '\0';
}

static bool is_separator(char c) {
  // Spaces, tabs and stray control characters all separate words.
  return static_cast<unsigned char>(c) <= ' ';
}

uint8_t split_words(char* line, Words& words) {
  words.count = 0;
  char* p = line;
  while (true) {
    while (*p != '\0' && is_separator(*p)) *p++ = '\0';
    if (*p == '\0') return words.count;
    if (words.count == kMaxWords) return kMaxWords + 1;
    words.word[words.count++] = p;
    for (; *p != '\0' && !is_separator(*p); ++p) {
      if (*p >= 'A' && *p <= 'Z') *p = static_cast<char>(*p - 'A' + 'a');
    }
  }
}

bool same(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) {
    ++a;
    ++b;
  }
  return *a == *b;
}

bool parse_index(const char* text, uint8_t limit, uint8_t& value) {
  if (*text == '\0' || (text[0] == '0' && text[1] != '\0')) return false;
  uint16_t number = 0;
  for (; *text != '\0'; ++text) {
    if (*text < '0' || *text > '9') return false;
    number = static_cast<uint16_t>(number * 10 + (*text - '0'));
    if (number >= limit) return false;
  }
  value = static_cast<uint8_t>(number);
  return true;
}

Parser::Parser(const char* device, const Command* commands, uint8_t count,
               Handler fallback, WriteLine write, void* context)
    : device_(device),
      commands_(commands),
      count_(count),
      fallback_(fallback),
      write_(write),
      context_(context),
      length_(0),
      overflow_(false) {
  line_[0] = '\0';
}

void Parser::feed(char byte) {
  if (byte == '\r') return;
  if (byte == '\n') {
    line_[length_] = '\0';
    bool overflow = overflow_;
    length_ = 0;
    overflow_ = false;
    if (overflow) {
      Reply reply;
      reply.err("too long");
      write_(reply.text(), context_);
    } else {
      handle_line(line_);
    }
    return;
  }
  // Past the limit the rest of the line is dropped, and answered at its end.
  if (length_ < kMaxLine) {
    line_[length_++] = byte;
  } else {
    overflow_ = true;
  }
}

void Parser::handle_line(char* line) {
  Words words;
  uint8_t count = split_words(line, words);
  if (count == 0) return;
  Reply reply;
  if (count > kMaxWords) {
    reply.err("bad arguments");
  } else {
    dispatch(words, reply);
    if (!reply.is_set()) reply.ok();
  }
  write_(reply.text(), context_);
}

void Parser::dispatch(const Words& words, Reply& reply) {
  const char* name = words.word[0];
  if (same(name, "ping")) {
    if (words.count != 1) {
      reply.err("bad arguments");
      return;
    }
    reply.start("pong");
    reply.add(device_);
    reply.add(kVersion);
    return;
  }
  for (uint8_t i = 0; i < count_; ++i) {
    if (same(name, commands_[i].name)) {
      commands_[i].handler(words, reply, context_);
      return;
    }
  }
  if (fallback_ != 0) {
    fallback_(words, reply, context_);
  } else {
    reply.err("unknown command");
  }
}

}  // namespace protocol
