SELECT * FROM EVENTS WHERE AT >= :window_start AND AT < :window_end
