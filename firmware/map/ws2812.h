// A WS2812 ("NeoPixel") writer for a 16 MHz AVR: 800 kHz bit-bang on PD6
// (Arduino pin 6), with interrupts off while a frame goes out (30 us a LED).
#ifndef GONGWATCH_WS2812_H
#define GONGWATCH_WS2812_H

#include <stdint.h>

namespace ws2812 {

// Makes the data pin an output, driven low.
void begin();
// Sends count bytes as they are (three a LED, green, red, blue), then leaves the
// line low so the LEDs latch them. Waits first if the previous frame's latch
// time (kLatchUs) has not passed yet.
void send(const uint8_t* bytes, uint16_t count);

// Low time that makes the LEDs latch a frame; newer WS2812B need 280 us.
const uint16_t kLatchUs = 300;

}  // namespace ws2812

#endif  // GONGWATCH_WS2812_H
