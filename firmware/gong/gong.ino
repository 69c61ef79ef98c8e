// gongwatch gong: strikes a gong with a hobby servo when the host sends "gong".
//
// Protocol (9600 baud, one command a line, see firmware/README.md):
//   gong  -> "ok gong", or "err cooldown" within kCooldownMs of the last strike
//   ping  -> "pong gong 1.0"
// The servo rests with the beater clear of the gong, swings to it on a strike,
// and is pulled back clear after kStrikeMs so the gong cannot ring twice.
#include <Arduino.h>

#include "protocol.h"
#include "servo_pulse.h"

// Servo pulse widths, in microseconds: beater clear of the gong, and on it.
const uint16_t kClearUs = 1000;
const uint16_t kStrikeUs = 2000;
// How long the servo is driven towards the gong before it is pulled back.
const uint16_t kStrikeMs = 150;
// Shortest time between two strikes (counted from the start of the last one).
const uint16_t kCooldownMs = 2000;

struct Striker {
  bool striking;
  bool struck_once;
  uint32_t strike_started_ms;
};

static Striker striker = {false, false, 0};

static void strike(const protocol::Words& words, protocol::Reply& reply, void*) {
  if (words.count != 1) {
    reply.err("bad arguments");
    return;
  }
  uint32_t now = millis();
  if (striker.struck_once && now - striker.strike_started_ms < kCooldownMs) {
    reply.err("cooldown");
    return;
  }
  servo_pulse::write_us(kStrikeUs);
  striker.striking = true;
  striker.struck_once = true;
  striker.strike_started_ms = now;
  reply.ok("gong");
}

static void write_line(const char* line, void*) {
  Serial.print(line);
  Serial.print('\n');
}

static const protocol::Command kCommands[] = {
    {"gong", strike},
};

static protocol::Parser parser("gong", kCommands, sizeof(kCommands) / sizeof(kCommands[0]),
                               0, write_line, 0);

void setup() {
  servo_pulse::begin(kClearUs);
  Serial.begin(9600);
  Serial.print("ready\n");
}

void loop() {
  while (Serial.available() > 0) parser.feed(static_cast<char>(Serial.read()));
  if (striker.striking && millis() - striker.strike_started_ms >= kStrikeMs) {
    servo_pulse::write_us(kClearUs);
    striker.striking = false;
  }
}
