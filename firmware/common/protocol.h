// The line protocol that both sketches speak: plain C++ with no Arduino or
// standard-library dependency, so the host compiles it for unit tests too.
//
// Bytes come in one at a time (feed). A line ends at '\n'; '\r' is ignored.
// A complete line is split into lowercase words and dispatched:
//   - "ping" is answered here: "pong <device> <version>";
//   - a word found in the command table calls its handler;
//   - anything else goes to the fallback handler, if there is one.
// Every non-empty line gets exactly one reply line: a handler sets it through
// Reply, and a handler that sets nothing is answered "ok". A line longer than
// kMaxLine characters is discarded up to its newline and answered once with
// "err too long". Blank lines are ignored without a reply.
#ifndef GONGWATCH_PROTOCOL_H
#define GONGWATCH_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

namespace protocol {

// Longest accepted command line, in characters, without the line ending.
const uint8_t kMaxLine = 40;
// Most words in one command line (a longer line is answered "err bad arguments").
const uint8_t kMaxWords = 4;
// Longest reply line, in characters, without the newline.
const uint8_t kMaxReply = 48;

// The protocol version that "ping" reports.
extern const char kVersion[];

// The words of one command line; word[0] is the command itself.
struct Words {
  uint8_t count;
  const char* word[kMaxWords];
};

// The single reply line to one command.
class Reply {
 public:
  Reply();
  // Starts the reply over as "ok", then appends text (if any) as a word.
  void ok(const char* text = 0);
  // Starts the reply over as "err <reason>".
  void err(const char* reason);
  // Starts the reply over with any first word (e.g. "pong").
  void start(const char* word);
  // Appends " <text>"; a reply that would not fit is cut at kMaxReply.
  void add(const char* text);
  // Appends " <number>" in decimal.
  void add_number(uint8_t number);
  // Whether a handler has set the reply.
  bool is_set() const { return length_ > 0; }
  const char* text() const { return text_; }

 private:
  void append(const char* text);
  char text_[kMaxReply + 1];
  uint8_t length_;
};

// A command handler: reads the words, acts, and sets the reply.
typedef void (*Handler)(const Words& words, Reply& reply, void* context);
// Writes one reply line (without its newline) to the serial line.
typedef void (*WriteLine)(const char* line, void* context);

struct Command {
  const char* name;
  Handler handler;
};

// Splits line in place into lowercase words separated by spaces, tabs or
// control characters. Returns the number of words found, or kMaxWords + 1
// when there were more than kMaxWords (words then holds the first kMaxWords).
uint8_t split_words(char* line, Words& words);

// Returns whether two NUL-terminated strings are equal.
bool same(const char* a, const char* b);

// Reads text as a decimal number below limit (digits only, no sign, no leading zeros
// but "0" itself) into value. Returns whether it was one.
bool parse_index(const char* text, uint8_t limit, uint8_t& value);

class Parser {
 public:
  // device and version are what "ping" reports. commands (count entries) are
  // looked up by their first word; fallback (may be 0) gets every other line,
  // and without it those lines are answered "err unknown command". context is
  // passed to every handler and to write.
  Parser(const char* device, const Command* commands, uint8_t count,
         Handler fallback, WriteLine write, void* context);

  // Takes one byte from the serial line; answers when it completes a line.
  void feed(char byte);
  // Dispatches one complete line (modified in place) and writes its reply;
  // a blank line gets none.
  void handle_line(char* line);

 private:
  void dispatch(const Words& words, Reply& reply);

  const char* device_;
  const Command* commands_;
  uint8_t count_;
  Handler fallback_;
  WriteLine write_;
  void* context_;
  char line_[kMaxLine + 1];
  uint8_t length_;
  bool overflow_;
};

}  // namespace protocol

#endif  // GONGWATCH_PROTOCOL_H
