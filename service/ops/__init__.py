"""Operations: doctor, the system service installer, automatic model choice and the BEIR evaluation."""
