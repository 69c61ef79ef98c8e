// gongwatch map: one WS2812 LED under each monitoring location of a world map.
//
// Protocol (9600 baud, one command a line, see firmware/README.md):
//   <location> <up|slow|down|off> -> that LED green, orange, red or dark
//   all <up|slow|down|off>        -> every LED
//   ping                          -> "pong map 1.0"
//   locations                     -> "ok <count>": how many locations there are
//   location <n>                  -> "ok <n> <name>": the n-th (from 0), so the host
//                                    learns the table and refuses names it lacks
// Replies echo the command ("ok sydney down"), or give "err unknown location",
// "err bad status", "err bad arguments", "err unknown command".
#include <Arduino.h>
#include <avr/pgmspace.h>
#include <string.h>

#include "protocol.h"
#include "ws2812.h"

// The LEDs in the order they are chained, roughly west to east. The host and
// the tests read this table, so keep one {"name", index} entry a line.
struct Location {
  char name[14];
  uint8_t led;
};

static const Location kLocations[] PROGMEM = {
    {"sanfrancisco", 0},
    {"losangeles", 1},
    {"dallas", 2},
    {"chicago", 3},
    {"toronto", 4},
    {"newyork", 5},
    {"saopaulo", 6},
    {"london", 7},
    {"amsterdam", 8},
    {"paris", 9},
    {"frankfurt", 10},
    {"stockholm", 11},
    {"mumbai", 12},
    {"singapore", 13},
    {"tokyo", 14},
    {"sydney", 15},
};

// Interrupts are off for 30 us a LED while a frame goes out. The UART holds
// two received bytes (2 ms at 9600 baud), so keep the chain under 60 LEDs.
const uint8_t kLedCount = 16;
static_assert(sizeof(kLocations) / sizeof(kLocations[0]) == kLedCount,
              "one location a LED");

// Colours as red, green, blue; half brightness keeps the whole map under
// 400 mA even when every LED is red.
struct Status {
  const char* name;
  uint8_t red, green, blue;
};

static const Status kStatuses[] = {
    {"up", 0, 128, 0},
    {"slow", 128, 48, 0},
    {"down", 128, 0, 0},
    {"off", 0, 0, 0},
};

// The frame as it goes down the wire: green, red, blue for every LED.
static uint8_t frame[kLedCount * 3];

static const Status* find_status(const char* name) {
  for (uint8_t i = 0; i < sizeof(kStatuses) / sizeof(kStatuses[0]); ++i) {
    if (protocol::same(name, kStatuses[i].name)) return &kStatuses[i];
  }
  return 0;
}

static int find_led(const char* name) {
  for (uint8_t i = 0; i < sizeof(kLocations) / sizeof(kLocations[0]); ++i) {
    if (strcmp_P(name, kLocations[i].name) == 0) return pgm_read_byte(&kLocations[i].led);
  }
  return -1;
}

static void paint(uint8_t led, const Status* status) {
  frame[led * 3] = status->green;
  frame[led * 3 + 1] = status->red;
  frame[led * 3 + 2] = status->blue;
}

// The status of a two-word command; on anything else answers the error and returns 0.
static const Status* status_of(const protocol::Words& words, protocol::Reply& reply) {
  if (words.count != 2) {
    reply.err("bad arguments");
    return 0;
  }
  const Status* status = find_status(words.word[1]);
  if (status == 0) reply.err("bad status");
  return status;
}

static void set_all(const protocol::Words& words, protocol::Reply& reply, void*) {
  const Status* status = status_of(words, reply);
  if (status == 0) return;
  for (uint8_t led = 0; led < kLedCount; ++led) paint(led, status);
  ws2812::send(frame, sizeof(frame));
  reply.ok("all");
  reply.add(status->name);
}

// Every line that is not a command names a location.
static void set_location(const protocol::Words& words, protocol::Reply& reply, void*) {
  int led = find_led(words.word[0]);
  if (led < 0) {
    reply.err(words.count == 1 ? "unknown command" : "unknown location");
    return;
  }
  const Status* status = status_of(words, reply);
  if (status == 0) return;
  paint(static_cast<uint8_t>(led), status);
  ws2812::send(frame, sizeof(frame));
  reply.ok(words.word[0]);
  reply.add(status->name);
}

static void count_locations(const protocol::Words& words, protocol::Reply& reply, void*) {
  if (words.count != 1) {
    reply.err("bad arguments");
    return;
  }
  reply.ok();
  reply.add_number(kLedCount);
}

// One name a reply: the whole table would not fit in one reply line.
static void name_location(const protocol::Words& words, protocol::Reply& reply, void*) {
  uint8_t index = 0;
  if (words.count != 2) {
    reply.err("bad arguments");
    return;
  }
  if (!protocol::parse_index(words.word[1], kLedCount, index)) {
    reply.err("unknown location");
    return;
  }
  char name[sizeof(kLocations[0].name)];
  strcpy_P(name, kLocations[index].name);
  reply.ok();
  reply.add_number(index);
  reply.add(name);
}

static void write_line(const char* line, void*) {
  Serial.print(line);
  Serial.print('\n');
}

static const protocol::Command kCommands[] = {
    {"all", set_all},
    {"locations", count_locations},
    {"location", name_location},
};

static protocol::Parser parser("map", kCommands, sizeof(kCommands) / sizeof(kCommands[0]),
                               set_location, write_line, 0);

void setup() {
  ws2812::begin();
  // LEDs can come up lit after a power cycle: start from a dark map.
  ws2812::send(frame, sizeof(frame));
  Serial.begin(9600);
  Serial.print("ready\n");
}

void loop() {
  while (Serial.available() > 0) parser.feed(static_cast<char>(Serial.read()));
}
