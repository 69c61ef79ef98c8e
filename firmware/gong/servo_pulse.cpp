// Timer1 in fast PWM mode 14: TOP = ICR1 sets the 20 ms period, OCR1A the pulse.
#include "servo_pulse.h"

#include <avr/io.h>
#include <util/atomic.h>

namespace servo_pulse {

// With a prescaler of 8 a 16 MHz timer counts 2 ticks per microsecond.
const uint16_t kTicksPerUs = F_CPU / 8 / 1000000UL;
const uint16_t kPeriodUs = 20000;

// The compare value for a pulse: the output stays high through the match
// tick, so the pulse lasts OCR1A + 1 ticks.
static uint16_t compare_value(uint16_t pulse_us) {
  if (pulse_us < kMinUs) pulse_us = kMinUs;
  if (pulse_us > kMaxUs) pulse_us = kMaxUs;
  return pulse_us * kTicksPerUs - 1;
}

void begin(uint16_t pulse_us) {
  ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
    // Stop the timer Arduino's init() set up for analogWrite before changing it.
    TCCR1B = 0;
    TCCR1A = 0;
    TCNT1 = 0;
    ICR1 = kPeriodUs * kTicksPerUs - 1;
    OCR1A = compare_value(pulse_us);
    PORTB &= ~_BV(PORTB1);
    DDRB |= _BV(DDB1);
    // Non-inverting output on OC1A: high from BOTTOM until the compare match.
    TCCR1A = _BV(COM1A1) | _BV(WGM11);
    TCCR1B = _BV(WGM13) | _BV(WGM12) | _BV(CS11);
  }
}

void write_us(uint16_t pulse_us) {
  uint16_t value = compare_value(pulse_us);
  // OCR1A is a 16-bit register written through the shared TEMP byte.
  ATOMIC_BLOCK(ATOMIC_RESTORESTATE) { OCR1A = value; }
}

}  // namespace servo_pulse
