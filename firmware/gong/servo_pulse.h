// A servo pulse generator on Timer1: 50 Hz pulses on OC1A (PB1, Arduino pin 9),
// made by the timer hardware alone, so no interrupt or delay loop is involved
// and the serial parser never waits for the servo.
#ifndef GONGWATCH_SERVO_PULSE_H
#define GONGWATCH_SERVO_PULSE_H

#include <stdint.h>

namespace servo_pulse {

// Shortest and longest pulse written, in microseconds.
const uint16_t kMinUs = 500;
const uint16_t kMaxUs = 2500;

// Starts 50 Hz pulses of pulse_us microseconds on pin 9.
void begin(uint16_t pulse_us);
// Changes the pulse width; the timer takes it at the start of the next period,
// so no pulse is ever cut short or stretched.
void write_us(uint16_t pulse_us);

}  // namespace servo_pulse

#endif  // GONGWATCH_SERVO_PULSE_H
